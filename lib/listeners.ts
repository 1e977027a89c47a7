/**
 * The listening sockets: the Unix socket (and its file), and optionally TCP
 * and TLS. Hands every accepted socket to `onSocket`; knows nothing of what
 * happens to it next.
 */
import { lstatSync, readFileSync } from 'fs';
import * as net from 'net';
import { dirname } from 'path';
import * as tls from 'tls';
import type { Settings } from './config';
import { directoryModeFor, ensureDirectory, UnsafeDirectoryError } from './safe-dir';
import { checkSocketPathFree, createStagingDir, publishSocket, removeSocketFile } from './socket-file';
import type { Transport } from './types';

export interface ListenerLog {
  debug(level: number, message: string, data?: unknown): void;
  error(code: string, message: string, data?: unknown): void;
}

export type SocketHandler = (socket: net.Socket, transport: Transport) => void;

/**
 * Admission for TLS sockets before their handshake: they hold a descriptor
 * and memory from accept on, so they count against max_connections from then.
 */
export interface HandshakeGate {
  /** A TCP socket arrived on the TLS port: false refuses it. */
  begin(): boolean;
  /** Its handshake finished, failed, or it closed first. */
  end(): void;
}

export class Listeners {
  /** The bound TCP port when `listen_port` is set (null otherwise). */
  tcpPort: number | null = null;
  /** The bound TLS port when `tls_port` is set (null otherwise). */
  tlsPort: number | null = null;

  private servers: net.Server[] = [];
  private socketPath: string | null = null;
  /** The inode of the socket file this process created, so it never removes another's. */
  private socketInode: number | null = null;

  /** Counts TLS handshakes in progress (set by the server; none: not counted). */
  handshakes: HandshakeGate | null = null;
  /** How long a TLS handshake may take (ms). */
  tlsHandshakeTimeout = 5000;

  constructor(private readonly onSocket: SocketHandler, private readonly log: ListenerLog) {}

  /** Opens every configured listener; rejects (leaving none open) if one cannot be. */
  async open(s: Settings): Promise<void> {
    try {
      await this.openUnixSocket(s.socketPath, s.socketMode);


      if (s.listenPort) {
        this.tcpPort = await this.listen(net.createServer({ allowHalfOpen: true }), 'tcp', s.listenPort, s.listenHost);
        this.log.debug(5, `IPCServer listening on tcp://${s.listenHost}:${this.tcpPort}`);
      }
      if (s.tlsPort) {
        // Not allowHalfOpen here: a client that hangs up during the handshake
        // must close the socket. Half-open is turned on once the handshake is done.
        this.tlsHandshakeTimeout = s.tlsHandshakeTimeout;
        const tlsOptions: tls.TlsOptions = { key: readFileSync(s.tlsKey), cert: readFileSync(s.tlsCert), handshakeTimeout: s.tlsHandshakeTimeout };
        if (s.tlsCa) {
          tlsOptions.ca = readFileSync(s.tlsCa);
          tlsOptions.requestCert = true;
          tlsOptions.rejectUnauthorized = true;
        }
        this.tlsPort = await this.listen(tls.createServer(tlsOptions), 'tls', s.tlsPort, s.listenHost);
        this.log.debug(5, `IPCServer listening on tls://${s.listenHost}:${this.tlsPort}`);
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /**
   * The Unix socket, never reachable with a mode looser than `mode`: checks
   * its directory, binds in a private staging directory, sets the mode, then
   * renames it into place (see socket-file.ts).
   */
  private async openUnixSocket(path: string, mode: number | null): Promise<void> {
    try {
      ensureDirectory(dirname(path), directoryModeFor(mode), 'The socket directory');
    } catch (err) {
      if (err instanceof UnsafeDirectoryError) throw err;
      throw new Error(`IPCServer: cannot create the socket's directory ${dirname(path)}: ${(err as Error).message}`);
    }
    const previous = await checkSocketPathFree(path);
    const staging = createStagingDir(path);
    try {
      await this.listen(net.createServer({ allowHalfOpen: true }), 'unix', staging.socketPath);
      this.socketInode = publishSocket(staging.socketPath, path, mode);
      this.socketPath = path;
    } finally {
      staging.remove();
    }
    if (previous === 'stale') this.log.debug(3, `Replaced stale socket file ${path}`);
    this.log.debug(5, `IPCServer listening on ${path}`);
  }

  /** Stops accepting. The socket file stays until removeSocketFile(). */
  close(): void {
    for (const server of this.servers) server.close();
    this.servers = [];
  }

  /** Removes the socket file only if it is still the one this process created. */
  removeSocketFile(): void {
    const path = this.socketPath;
    if (path === null || this.socketInode === null) return;
    try {
      if (lstatSync(path).ino !== this.socketInode) return;
    } catch {
      return;
    }
    removeSocketFile(path);
    this.socketInode = null;
  }

  private acceptErrors = 0;
  private acceptErrorLoggedAt = 0;

  /**
   * Out of descriptors (EMFILE/ENFILE), accept fails for every waiting client;
   * libuv drops them and accepting goes on, and it serves again as soon as
   * descriptors are free. Logged at most once a second, with a count.
   */
  private listenerError(transport: Transport, err: NodeJS.ErrnoException): void {
    if (err.code === 'EMFILE' || err.code === 'ENFILE') {
      this.acceptErrors++;
      const now = Date.now();
      if (now - this.acceptErrorLoggedAt < 1000) return;
      this.acceptErrorLoggedAt = now;
      this.log.error('accept_failed', `${transport} listener: out of file descriptors (${err.code}); ${this.acceptErrors} connections dropped so far`);
      return;
    }
    this.log.error('ipc_server_err', `${transport} listener error: ${err.message}`);
  }

  private listen(server: net.Server, transport: Transport, pathOrPort: string | number, host?: string): Promise<number | null> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`IPCServer cannot listen on ${transport} ${pathOrPort}: ${err.message}`));
      server.once('error', onError);
      const onListening = () => {
        server.removeListener('error', onError);
        server.on('error', (err: NodeJS.ErrnoException) => this.listenerError(transport, err));
        this.servers.push(server);
        const address = server.address();
        resolve(address && typeof address === 'object' ? address.port : null);
      };
      if (transport === 'tls') {
        const handshakeDone = new WeakMap<net.Socket, () => void>();
        server.on('connection', (raw: net.Socket) => {
          const gate = this.handshakes;
          if (!gate) return;
          if (!gate.begin()) {
            raw.destroy();
            return;
          }
          let counted = true;
          const end = () => {
            if (!counted) return;
            counted = false;
            gate.end();
          };
          handshakeDone.set(raw, end);
          raw.once('close', end);
        });
        server.on('secureConnection', (socket: tls.TLSSocket) => {
          // The handshake is over: from here the socket counts as a connection.
          const raw = (socket as unknown as { _parent?: net.Socket })._parent;
          if (raw) handshakeDone.get(raw)?.();
          // Like the other listeners: a client that ends its side still gets its answers.
          socket.allowHalfOpen = true;
          this.onSocket(socket, transport);
        });
        server.on('tlsClientError', (err, socket: tls.TLSSocket) => {
          this.log.debug(5, `TLS handshake failed: ${err.message}`);
          // Node reports a handshake timeout here without closing the socket.
          socket.destroy();
        });
      } else {
        server.on('connection', (socket: net.Socket) => this.onSocket(socket, transport));
      }
      if (typeof pathOrPort === 'string') server.listen(pathOrPort, onListening);
      else server.listen(pathOrPort, host, onListening);
    });
  }
}
