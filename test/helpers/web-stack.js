'use strict';
// nginx + php-fpm from the system's packages, run as plain child processes with
// their configuration in a temporary directory (loopback port, Unix sockets),
// serving PHP pages that call a pixl-ipc daemon. Used by `npm run test:web` and
// test/integration/php-fpm.test.js.
//
// As root the pool runs as www-data and reaches the daemon's socket through
// its group, exactly as docs/deployment.md's "PHP under php-fpm" steps set it up: a
// setgid directory owned by group www-data, socket_chmod "660". Otherwise
// everything runs as the current user.
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const { sleep, waitFor } = require('./wait');
const { freePort } = require('./harness');

const ROOT = path.join(__dirname, '..', '..');
const CLIENT_FILE = path.join(ROOT, 'php-client', 'PixlIPCClient.class.php');
const WEB_USER = 'www-data';

/** The first of `names` found in PATH or the sbin directories, or null. */
function findBinary(names) {
  const dirs = (process.env.PATH || '').split(path.delimiter).concat(['/usr/sbin', '/usr/local/sbin', '/sbin']);
  for (const name of names) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** php-fpm's binary: Debian names it after the PHP version (php-fpm8.2). */
function findPhpFpm() {
  const plain = findBinary(['php-fpm']);
  if (plain) return plain;
  for (const dir of ['/usr/sbin', '/usr/local/sbin']) {
    let entries = [];
    try {
      entries = fs.readdirSync(dir);
    } catch {
      continue;
    }
    const match = entries.filter((f) => /^php-fpm\d+(\.\d+)?$/.test(f)).sort().pop();
    if (match) return path.join(dir, match);
  }
  return null;
}

/** Why the stack cannot run here, or null when it can. */
function missingParts() {
  const missing = [];
  if (!findPhpFpm()) missing.push('php-fpm');
  if (!findBinary(['nginx'])) missing.push('nginx');
  return missing.length ? missing : null;
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function webIds() {
  const uid = Number(execFileSync('id', ['-u', WEB_USER], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', WEB_USER], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** The PHP pages: a static one and pages making pixl-ipc calls. */
function writePages(www, socketPath, extraPages) {
  fs.mkdirSync(www, { mode: 0o755 });
  for (const file of fs.readdirSync(path.dirname(CLIENT_FILE)).filter((f) => f.endsWith('.php'))) {
    fs.copyFileSync(path.join(path.dirname(CLIENT_FILE), file), path.join(www, file));
  }
  fs.writeFileSync(path.join(www, 'config.php'), `<?php\nrequire_once __DIR__ . '/PixlIPCClient.class.php';\nconst IPC_SOCKET = ${JSON.stringify(socketPath)};\n`);
  fs.writeFileSync(path.join(www, 'static.php'), '<?php\necho "ok\\n";\n');
  // One call per page; ?persistent=1 reuses the worker's connection. A wrong
  // answer is a 500, so ab counts it as a failure.
  fs.writeFileSync(path.join(www, 'call.php'), `<?php
require __DIR__ . '/config.php';
$tag = bin2hex(random_bytes(6));
try {
    $ipc = new PixlIPCClient(IPC_SOCKET, array('persistent' => !empty($_GET['persistent']), 'connectRetry' => 3000, 'requestTimeout' => 3000));
    $answer = $ipc->call('/ipcserver/test/echo', array('tag' => $tag));
} catch (PixlIPCException $e) {
    http_response_code(503);
    error_log('pixl-ipc call failed: ' . $e->getCode() . ': ' . $e->getMessage());
    echo get_class($e), ' ', $e->getCode(), ': ', $e->getMessage(), "\\n";
    return;
}
if (!is_array($answer) || !isset($answer['tag']) || $answer['tag'] !== $tag) {
    http_response_code(500);
    echo "wrong answer\\n";
    return;
}
echo "ok\\n";
`);
  // For tests: a delay that may time out, then an echo whose answer must be this page's own.
  fs.writeFileSync(path.join(www, 'mix.php'), `<?php
require __DIR__ . '/config.php';
header('Content-Type: application/json');
$tag = isset($_GET['tag']) ? (string)$_GET['tag'] : '';
$out = array('tag' => $tag, 'pid' => getmypid());
try {
    $ipc = new PixlIPCClient(IPC_SOCKET, array('persistent' => true, 'connectRetry' => 3000, 'requestTimeout' => (int)$_GET['timeout']));
    if (!empty($_GET['delay'])) {
        try {
            $ipc->call('/ipcserver/test/delay', array('delay' => (int)$_GET['delay'], 'tag' => 'delay-' . $tag));
            $out['delay'] = 'answered';
        } catch (PixlIPCException $e) {
            $out['delay'] = $e->getCode() === PixlIPCClient::E_TIMEOUT ? 'timeout' : $e->getMessage();
        }
    }
    $out['echo'] = $ipc->call('/ipcserver/test/echo', array('tag' => $tag));
    $out['who'] = $ipc->call('/test/whoami', array('tag' => $tag));
} catch (PixlIPCException $e) {
    $out['error'] = $e->getCode() . ': ' . $e->getMessage();
}
echo json_encode($out), "\\n";
`);
  for (const [name, text] of Object.entries(extraPages)) fs.writeFileSync(path.join(www, name), text);
  for (const file of fs.readdirSync(www)) fs.chmodSync(path.join(www, file), 0o644);
}

function fpmConfig(dir, asRoot, workers) {
  const pool = asRoot ? `user = ${WEB_USER}\ngroup = ${WEB_USER}\n` : '';
  return `[global]
pid = ${dir}/php-fpm.pid
error_log = ${dir}/php-fpm.log
daemonize = no

[web]
${pool}listen = ${dir}/php-fpm.sock
listen.mode = 0666
pm = static
pm.max_children = ${workers}
catch_workers_output = yes
php_admin_value[error_log] = ${dir}/php-errors.log
php_admin_flag[log_errors] = on
`;
}

function nginxConfig(dir, port, asRoot) {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log;
${asRoot ? `user ${WEB_USER};` : ''}
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  proxy_temp_path ${dir}/nginx-proxy;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/www;
    location ~ \\.php$ {
      fastcgi_pass unix:${dir}/php-fpm.sock;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_param QUERY_STRING $query_string;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param CONTENT_TYPE $content_type;
      fastcgi_param CONTENT_LENGTH $content_length;
      fastcgi_param SCRIPT_NAME $fastcgi_script_name;
      fastcgi_param REQUEST_URI $request_uri;
      fastcgi_param SERVER_PROTOCOL $server_protocol;
      fastcgi_param REMOTE_ADDR $remote_addr;
      fastcgi_param SERVER_NAME $server_name;
      fastcgi_param SERVER_PORT $server_port;
    }
  }
}
`;
}

/** Resolves once something accepts connections on the Unix socket or port. */
function canConnect(options) {
  return new Promise((resolve) => {
    const socket = net.connect(options);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

function stopChild(child, signal = 'SIGTERM', timeoutMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill(signal);
  });
}

/**
 * Starts php-fpm and nginx. Returns { baseUrl, dir, socketDir, socketPath, stop() }.
 * Options: workers (php-fpm children, 4), pages ({ name: PHP source } added to
 * the document root, next to config.php, which defines IPC_SOCKET).
 * The daemon is the caller's: it must listen on `socketPath` (in `socketDir`,
 * which is group-owned by www-data and setgid when running as root) with
 * socket_chmod "660".
 */
async function startWebStack({ workers = 4, pages = {} } = {}) {
  const asRoot = isRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-web-'));
  fs.chmodSync(dir, 0o755);
  // docs/deployment.md's steps: a directory for the socket, group www-data, setgid so the
  // socket the daemon creates there gets that group.
  const socketDir = path.join(dir, 'run');
  fs.mkdirSync(socketDir);
  if (asRoot) {
    fs.chownSync(socketDir, 0, webIds().gid);
    fs.chmodSync(socketDir, 0o2750);
  }
  const socketPath = path.join(socketDir, 'ipc.sock');
  // The pool's PHP error log, writable by the pool's user.
  const phpErrors = path.join(dir, 'php-errors.log');
  fs.writeFileSync(phpErrors, '');
  if (asRoot) fs.chownSync(phpErrors, webIds().uid, webIds().gid);
  writePages(path.join(dir, 'www'), socketPath, pages);
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'php-fpm.conf'), fpmConfig(dir, asRoot, workers));
  fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConfig(dir, port, asRoot));

  const children = [];
  const logs = { fpm: '', nginx: '' };
  const start = (name, bin, args) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => { logs[name] += d; });
    child.stderr.on('data', (d) => { logs[name] += d; });
    children.push(child);
    return child;
  };
  const stop = async () => {
    for (const child of children.reverse()) await stopChild(child, 'SIGQUIT');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    start('fpm', findPhpFpm(), ['--fpm-config', path.join(dir, 'php-fpm.conf'), '--nodaemonize']);
    await waitFor(() => canConnect({ path: path.join(dir, 'php-fpm.sock') }), 'php-fpm to listen', 10000, 20);
    start('nginx', findBinary(['nginx']), ['-c', path.join(dir, 'nginx.conf'), '-p', dir, '-e', path.join(dir, 'nginx-error.log')]);
    await waitFor(() => canConnect({ port, host: '127.0.0.1' }), 'nginx to listen', 10000, 20);
  } catch (err) {
    err.message += `\nphp-fpm: ${logs.fpm}\nnginx: ${logs.nginx}`;
    await stop();
    throw err;
  }
  return { baseUrl: `http://127.0.0.1:${port}`, dir, socketDir, socketPath, stop, logs, asRoot };
}

/** GET a page; resolves to { status, body }. */
function get(url) {
  const http = require('http');
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

module.exports = { startWebStack, missingParts, findBinary, get, stopChild, canConnect, sleep };
