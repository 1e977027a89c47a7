/**
 * The opt-in HTTP listener a Prometheus server scrapes: `GET /metrics` answers
 * the text exposition, anything else 404. It is small on purpose: no keep-alive
 * games, short timeouts and few connections, since it usually listens on
 * loopback next to a daemon that has better things to do.
 */
import * as http from 'http';
import { CONTENT_TYPE } from './prometheus';

/** Scrapers are few; more sockets than this are refused by the kernel backlog, not served. */
const MAX_SOCKETS = 16;
const TIMEOUT_MS = 10_000;

export class MetricsListener {
  private server: http.Server | null = null;

  constructor(private readonly render: () => string) {}

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

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
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
