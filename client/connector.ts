/**
 * Opens the stream to a target: a Unix socket, TCP, or TLS.
 *
 * Unix and TCP sockets read into a buffer the connector hands them (net's
 * `onread`), which skips the stream machinery and a new buffer per read;
 * TLS sockets deliver 'data' events. Either way every chunk goes to `deliver`.
 */

import * as net from 'net';
import * as tls from 'tls';
import { socketPathProblem } from '../lib/socket-path-limit';
import type { Target } from './target';

/** Size of the buffer Unix and TCP connections read into (as large as net's own reads). */
const READ_BUFFER_BYTES = 64 * 1024;

export interface OpenOptions {
  /** Options handed to tls.connect for tls:// targets. */
  tls?: tls.ConnectionOptions;
  /**
   * Bytes the consumer of the chunks still holds by reference (an unfinished
   * line): while non-zero, the next read goes into a fresh buffer.
   */
  heldBytes: () => number;
  /** Gets every chunk read, in order. */
  deliver: (chunk: Buffer) => void;
}

/** Opens the socket; it is ready when `readyEvent(target)` fires. Throws on unusable options (bad tls settings...). */
export function openSocket(target: Target, options: OpenOptions): net.Socket {
  const deliver = options.deliver;
  if (target.kind === 'tls') {
    const socket = tls.connect({ ...(options.tls || {}), host: target.host, port: target.port });
    socket.on('data', deliver);
    return socket;
  }
  const heldBytes = options.heldBytes;
  let buffer: Buffer | null = null;
  const onread = {
    buffer: (): Buffer => {
      if (buffer === null || heldBytes() > 0) buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      return buffer;
    },
    callback: (bytes: number, into: Uint8Array): boolean => {
      deliver((into as Buffer).subarray(0, bytes));
      return true;
    },
  };
  if (target.kind === 'unix') {
    // Checked here, not by the kernel: a longer path would be truncated to another file's name.
    const tooLong = socketPathProblem(target.path);
    if (tooLong) throw new Error(tooLong);
    return net.createConnection({ path: target.path, onread });
  }
  return net.createConnection({ host: target.host, port: target.port, onread });
}

/** The socket event that says the connection is open (after the handshake, for TLS). */
export function readyEvent(target: Target): 'connect' | 'secureConnect' {
  return target.kind === 'tls' ? 'secureConnect' : 'connect';
}
