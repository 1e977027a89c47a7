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

/**
 * Up to this many held bytes (an unfinished line) are copied out so the read
 * buffer can be used again; more, and the next read gets a fresh buffer
 * instead (copying a large line's pieces would cost as much). A fresh 64 KiB
 * buffer for every chunk that ends inside a small line made a client with
 * 1,000 pipelining connections spend a fifth of its time in GC.
 */
const COPY_HELD_MAX_BYTES = 4 * 1024;

export interface OpenOptions {
  /** Options handed to tls.connect for tls:// targets. */
  tls?: tls.ConnectionOptions;
  /**
   * Bytes the consumer of the chunks still holds by reference (an unfinished
   * line): while non-zero, the next read goes into a fresh buffer, unless
   * detachHeld() can copy them out cheaply first.
   */
  heldBytes: () => number;
  /** Makes the consumer copy the bytes it holds, so the read buffer may be reused. */
  detachHeld: () => void;
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
  const { heldBytes, detachHeld } = options;
  let buffer: Buffer | null = null;
  const onread = {
    buffer: (): Buffer => {
      const held = heldBytes();
      if (buffer === null || held > COPY_HELD_MAX_BYTES) buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      else if (held > 0) detachHeld();
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
