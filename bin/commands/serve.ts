/**
 * `pixl-ipc serve`: a standalone daemon, pixl-server with the IPCServer
 * component and its built-in endpoints, in the foreground.
 */
import { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { ensureDirectory } from '../../lib/safe-dir';
import { prepareAppendFile } from '../../lib/safe-file';
import { CliError, ExitCode, oneLine, runAction } from '../cli-error';
import { defaultRuntimeDir, defaultSocketPath, SOCKET_ENV } from '../defaults';
import { parseDebugLevel } from '../input';
import { packageVersion } from '../package-version';

interface ServeOptions {
  socket?: string;
  config?: string;
  debugLevel?: number;
  echo?: boolean;
  handlers?: string;
  takeover?: boolean;
}

/** What a --handlers module exports: a function that receives the component (and the pixl-server). */
type HandlersSetup = (ipc: any, server: any) => unknown;

/** If shutdown finished but something still holds the event loop, exit anyway after this long. */
const EXIT_GRACE_MS = 1000;

/** The `serve` command, ready to add to the program. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('run a pixl-ipc daemon in the foreground (Ctrl-C or SIGTERM stops it and removes the socket)')
    .option('-s, --socket <path>', `socket path to listen on (default: the config file's IPCServer.socket_path, else $${SOCKET_ENV}, else ${defaultSocketPath()})`)
    .option('-c, --config <file>', 'a JSON file with the pixl-server config; its IPCServer key is merged over the defaults')
    .option('-d, --debug-level <n>', 'log verbosity, 1 to 10 (connections are logged at 8, each request at 9)', parseDebugLevel)
    .option('-e, --echo', 'copy log lines to stdout')
    .option('-H, --handlers <file>', 'a module (CommonJS or ESM) exporting a function that receives the IPCServer component and adds your handlers')
    .option('--takeover', 'if a daemon already listens on the socket, take over from it: no connection is refused meanwhile, it answers what it has and exits (IPCServer.handoff)')
    .addHelpText('after', `
Defaults: log file ${path.join(defaultRuntimeDir(), 'pixl-ipc.log')} (debug level 5).
Everything else is the IPCServer and pixl-server defaults (stats and the traffic
monitor answer this user only). Command-line flags win over the file.

Example config file:
  { "debug_level": 6, "IPCServer": { "socket_path": "/run/myapp/ipc.sock", "socket_chmod": "660" } }

Example handlers file (handlers.js), run with \`pixl-ipc serve --handlers handlers.js\`:
  module.exports = (ipc) => {
    ipc.addURIHandler('/myapp/hello', 'Hello', (request) => ({ hello: request.data.name }));
  };
The function runs once the component has started, before "listening" is
printed; if it returns a promise, serve waits for it. If it throws, serve
stops with exit code 1.`)
    .action(runAction('serve', serve));
}

/** The pixl-server config: built-in defaults, then the config file, then the flags. */
export function buildServeConfig(options: ServeOptions): Record<string, any> {
  const fromFile = options.config ? readConfigFile(options.config) : {};
  const ipcFromFile = fromFile.IPCServer ?? {};
  if (typeof ipcFromFile !== 'object' || Array.isArray(ipcFromFile)) {
    throw new CliError(`config file ${options.config}: "IPCServer" must be an object`, ExitCode.usage);
  }
  const config: Record<string, any> = {
    log_dir: defaultRuntimeDir(),
    log_filename: 'pixl-ipc.log',
    debug_level: 5,
    ...fromFile,
    // A command in a terminal or under a supervisor: never fork into the background.
    foreground: true,
    IPCServer: { socket_path: defaultSocketPath(), ...ipcFromFile },
  };
  if (options.socket) config.IPCServer.socket_path = options.socket;
  if (options.debugLevel !== undefined) config.debug_level = options.debugLevel;
  if (options.echo) config.echo = true;
  if (options.takeover) config.IPCServer.handoff = true;
  return config;
}

function readConfigFile(file: string): Record<string, any> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read config file ${file}: ${(err as Error).message}`, ExitCode.usage);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliError(`config file ${file} is not valid JSON: ${(err as Error).message}`, ExitCode.usage);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliError(`config file ${file} must hold a JSON object`, ExitCode.usage);
  }
  return parsed as Record<string, any>;
}

async function serve(options: ServeOptions): Promise<void> {
  const config = buildServeConfig(options);
  const setup = options.handlers ? await loadHandlers(options.handlers) : null;
  prepareLogFile(config);
  const PixlServer = require('pixl-server');
  const IPCServer = require('../../lib');
  const server = new PixlServer({ __name: 'PixlIPC', __version: packageVersion(), config, components: [IPCServer] });
  const ipc = server.IPCServer;

  // pixl-server logs a failed component startup and exits 1; say why on stderr first (in our words: the
  // component prints its own line only when nobody listens).
  ipc.on('startup_failed', (err: Error) => process.stderr.write(`pixl-ipc serve: ${oneLine(err.message)}\n`));
  const startComponent = ipc.startup.bind(ipc);
  let componentStarted = false;
  ipc.startup = (callback: (err?: Error | null) => void) => {
    startComponent((err?: Error | null) => {
      componentStarted = !err;
      if (err || !setup) return callback(err);
      // After the built-in routes, so a catch-all pattern of the user's cannot hide /ipcserver/stats.
      Promise.resolve()
        .then(() => setup(ipc, server))
        .then(() => callback(), (setupErr: unknown) => {
          const message = setupErr instanceof Error ? setupErr.message : String(setupErr);
          // The component is listening already: stop it, so its socket file goes too.
          ipc.shutdown(() => reportStartup(callback, new Error(`handlers file ${options.handlers}: ${message}`)));
        });
    });
  };

  // A takeover fails after the component's startup only if the rename over the path does (the old daemon serves on).
  ipc.on('startup_failed', (err: Error) => {
    if (server.started || !componentStarted) return;
    process.stderr.write(`pixl-ipc serve: ${oneLine(err.message)}\n`);
  });
  ipc.on('takeover', (info: { pid: number }) => process.stdout.write(`pixl-ipc took over from pid ${info.pid}\n`));
  ipc.on('handoff', (info: { pid: number }) => process.stdout.write(`pixl-ipc handing off to pid ${info.pid}\n`));
  server.on('shutdown', () => {
    if (!server.started) return; // startup failed: pixl-server exits 1 itself
    process.stdout.write('pixl-ipc stopped\n');
    process.exitCode = ExitCode.ok;
    setTimeout(() => process.exit(ExitCode.ok), EXIT_GRACE_MS).unref();
  });

  await new Promise<void>((resolve, reject) => {
    const started = () => {
      printListening(server, ipc);
      resolve();
    };
    try {
      withoutCommandLine(() => server.startup(started));
    } catch (err) {
      reject(new CliError(`cannot start: ${(err as Error).message}`, ExitCode.errorResponse));
    }
  });
}

/** A handlers file that fails makes startup fail: say why on stderr, as for the component's own failures. */
function reportStartup(callback: (err?: Error | null) => void, err?: Error | null): void {
  if (err) process.stderr.write(`pixl-ipc serve: ${oneLine(err.message)}\n`);
  callback(err);
}

/** Loads a --handlers module (CommonJS or ESM) and returns its setup function; exit 2 when it cannot. */
export async function loadHandlers(file: string): Promise<HandlersSetup> {
  const resolved = path.resolve(file);
  if (!existsSync(resolved)) throw new CliError(`handlers file ${file}: no such file`, ExitCode.usage);
  let loaded: any;
  try {
    // A real import() (tsc would turn a literal one into require(), which cannot load ESM).
    const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<any>;
    loaded = await importModule(pathToFileURL(resolved).href);
  } catch (err) {
    throw new CliError(`handlers file ${file} failed to load: ${oneLine((err as Error).message ?? String(err))}`, ExitCode.usage);
  }
  // import() of CommonJS gives module.exports as `default`; ESM gives its default export; `exports.default` from compiled TS nests one more.
  const candidate = typeof loaded?.default === 'function' ? loaded.default : typeof loaded?.default?.default === 'function' ? loaded.default.default : loaded;
  if (typeof candidate !== 'function') {
    throw new CliError(`handlers file ${file} must export a function (module.exports = (ipc) => { ... } or export default), not ${describeExport(loaded?.default ?? loaded)}`, ExitCode.usage);
  }
  return candidate as HandlersSetup;
}

function describeExport(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? `an object with keys [${Object.keys(value as object).join(', ')}]` : typeof value;
}

/**
 * pixl-server appends its first log line before any component starts, by
 * name: create the log file first, never through a symlink, and make the
 * default runtime directory (0700) and check it is this user's.
 */
function prepareLogFile(config: Record<string, any>): void {
  const logDir = config.log_dir || '.';
  const logFile = path.join(logDir, config.log_filename || 'event.log');
  try {
    if (path.resolve(logDir) === path.resolve(defaultRuntimeDir())) ensureDirectory(logDir, 0o700, 'The runtime directory');
    else mkdirSync(logDir, { recursive: true });
    if (!logFile.includes('[')) prepareAppendFile(logFile);
  } catch (err) {
    throw new CliError(`cannot start: ${(err as Error).message}`, ExitCode.errorResponse);
  }
}

/**
 * pixl-server reads `--key value` pairs from process.argv into its config
 * (and `--config FILE` as its config file). Our flags are ours alone, so it
 * sees an empty command line while it starts.
 */
function withoutCommandLine(start: () => void): void {
  const argv = process.argv;
  process.argv = argv.slice(0, 2);
  try {
    start();
  } finally {
    process.argv = argv;
  }
}

function printListening(server: any, ipc: any): void {
  const settings = ipc.settings;
  const how = ipc.socketActivated ? ' (socket activation)' : '';
  const lines = [`pixl-ipc listening on ${ipc.socketPath ?? settings.socketPath}${how}`];
  if (ipc.tcpPort) lines.push(`pixl-ipc listening on tcp://${hostForUrl(settings.listenHost)}:${ipc.tcpPort}`);
  if (ipc.tlsPort) lines.push(`pixl-ipc listening on tls://${hostForUrl(settings.listenHost)}:${ipc.tlsPort}`);
  const logFile = path.join(server.config.get('log_dir') || '.', server.config.get('log_filename') || 'event.log');
  lines.push(`pixl-ipc log file ${logFile} (debug level ${server.config.get('debug_level')}); Ctrl-C stops`);
  process.stdout.write(lines.join('\n') + '\n');
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
