/**
 * Opens the stream to a target: a Unix socket, TCP, or TLS.
 *
 * Unix and TCP sockets read straight into the free space of the link's
 * reader (net's `onread`), which skips the stream machinery and a new buffer
 * per read; TLS sockets deliver 'data' events, copied in by the reader.
 */

import * as net from 'net';
import * as tls from 'tls';
import { socketPathProblem } from '../lib/socket-path-limit';
import type { Target } from './target';

export interface OpenOptions {
  /** Options handed to tls.connect for tls:// targets. */
  tls?: tls.ConnectionOptions;
  /** Where the next read of a Unix or TCP socket goes (the link's reader's free space). */
  readInto: () => Buffer;
  /** That many bytes were read into what readInto() gave. */
  read: (bytes: number) => void;
  /** A chunk from a TLS socket (it reads into buffers of its own). */
  deliver: (chunk: Buffer) => void;
}

/** Opens the socket; it is ready when `readyEvent(target)` fires. Throws on unusable options (bad tls settings...). */
export function openSocket(target: Target, options: OpenOptions): net.Socket {
  if (target.kind === 'tls') {
    const socket = tls.connect({ ...(options.tls || {}), host: target.host, port: target.port });
    socket.on('data', options.deliver);
    return socket;
  }
  const { readInto, read } = options;
  const onread = {
    buffer: readInto,
    callback: (bytes: number): boolean => {
      read(bytes);
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
