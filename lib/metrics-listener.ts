/**
 * The opt-in HTTP listener a Prometheus server scrapes: `GET /metrics` answers
 * the text exposition, anything else 404. It is small on purpose: no keep-alive
 * games, short timeouts and few connections, since it usually listens on
 * loopback next to a daemon that has better things to do.
 *
 * Loopback is still reachable by every local user, whatever the Unix socket's
 * mode: with a token (metrics_token, or metrics_token_file to keep it out of
 * the config) every request must carry `Authorization: Bearer <token>`, as a
 * Prometheus scrape config with `authorization: { credentials_file: ... }`
 * sends it.
 */
import { createHash, timingSafeEqual } from 'crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'fs';
import * as http from 'http';
import type { Settings } from './config';
import { CONTENT_TYPE } from './prometheus';

/** Scrapers are few; more sockets than this are refused by the kernel backlog, not served. */
const MAX_SOCKETS = 16;
const TIMEOUT_MS = 10_000;
/** A token file longer than this is not a token. */
const MAX_TOKEN_FILE_BYTES = 4096;

/** The metrics token from the settings: metrics_token, or the first line of metrics_token_file; null for none. */
export function readMetricsToken(s: Settings): string | null {
  if (s.metricsToken) return s.metricsToken;
  if (!s.metricsTokenFile) return null;
  const file = s.metricsTokenFile;
  let text: string;
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) throw new Error('not a regular file');
      // Prometheus reads the same file; anyone else on the machine must not.
      if (stats.mode & 0o004) throw new Error(`readable by every user (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}); chmod o-r it`);
      if (stats.size > MAX_TOKEN_FILE_BYTES) throw new Error(`${stats.size} bytes; a token file holds one line`);
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new Error(`IPCServer: metrics_token_file ${file}: ${(err as Error).message}`);
  }
  const token = text.split('\n')[0].trim();
  if (token === '') throw new Error(`IPCServer: metrics_token_file ${file} is empty`);
  return token;
}

/** A fixed-length digest, so that comparing takes the same time whatever was sent. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export class MetricsListener {
  private server: http.Server | null = null;
  private readonly tokenDigest: Buffer | null;

  /** `token`: the bearer token every request must carry, or null for none. */
  constructor(private readonly render: () => string, token: string | null = null) {
    this.tokenDigest = token === null ? null : digest(token);
  }

  /** True when requests need the bearer token. */
  get requiresToken(): boolean {
    return this.tokenDigest !== null;
  }

  /** Listens; resolves to the bound port. */
  listen(port: number, host: string): Promise<number> {
    const server = http.createServer((req, res) => this.answer(req, res));
    server.maxConnections = MAX_SOCKETS;
    server.headersTimeout = TIMEOUT_MS;
    server.requestTimeout = TIMEOUT_MS;
    server.keepAliveTimeout = TIMEOUT_MS;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.removeListener('error', reject);
        const address = server.address();
        resolve(address && typeof address === 'object' ? address.port : port);
      });
    });
  }

  close(): void {
    if (!this.server) return;
    this.server.close();
    this.server.closeAllConnections();
    this.server = null;
  }

  /** True when the request carries the token (or none is required). */
  private authorized(req: http.IncomingMessage): boolean {
    if (this.tokenDigest === null) return true;
    const header = req.headers.authorization ?? '';
    const match = /^Bearer +(\S+) *$/i.exec(header);
    return match !== null && timingSafeEqual(digest(match[1]), this.tokenDigest);
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (!this.authorized(req)) {
      // Nothing about the daemon, not even whether the path exists, without the token.
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8', 'WWW-Authenticate': 'Bearer realm="pixl-ipc metrics"' });
      res.end('Unauthorized: send Authorization: Bearer <metrics token>\n');
      return;
    }
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Not found: metrics are at GET /metrics\n');
      return;
    }
    let body: string;
    try {
      body = this.render();
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`Metrics failed: ${(err as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
