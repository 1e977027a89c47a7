/**
 * One open socket and what reads it: the line reader, the response handler,
 * and what the client learned about this connection (why it failed, whether
 * the server said it is going away).
 *
 * A client has one current link; after the server's goaway it may also keep
 * old ones, draining: nothing more is written to them, their answers are
 * still read, and they are closed once nothing waits on them.
 */

import type * as net from 'net';
import type { LineReader } from '../lib/framing';
import type { PushMessageObject, ResponseHandler } from './response-handler';

export class Link {
  readonly socket: net.Socket;
  readonly reader: LineReader;
  readonly responses: ResponseHandler;
  /** The first socket error (the usual explanation of a close). */
  socketError: Error | null = null;
  /** The last connection-level error line from the server (e.g. idle_timeout), to explain a close. */
  lastServerError: PushMessageObject | null = null;
  /** A line passed maxMessageSize. */
  overflowed = false;
  /** The server is going away: nothing more is written here. */
  draining = false;
  /** While draining: requests written here that still wait for their answer. */
  remaining = 0;
  /** Set when the client lets go of the link: nothing it reads counts any more. */
  detached = false;
  #holds = 0;

  constructor(socket: net.Socket, reader: LineReader, responses: ResponseHandler) {
    this.socket = socket;
    this.reader = reader;
    this.responses = responses;
  }

  /**
   * Stops reading (a stream's consumer is behind): the rest of the chunk being
   * scanned waits in the reader, the socket stops reading, and the server's
   * own backpressure engages once the kernel buffers fill. Counted: reading
   * resumes once every hold is released.
   */
  hold(): void {
    if (this.#holds++ === 0 && !this.detached) {
      this.reader.pause();
      this.socket.pause();
    }
  }

  release(): void {
    if (this.#holds === 0) return;
    if (--this.#holds === 0 && !this.detached) {
      this.socket.resume();
      this.reader.resume();
    }
  }

  /** The client lets go: stops the scan of the current chunk at once (also from inside a line handler). */
  detach(): void {
    this.detached = true;
    this.responses.authId = null;
    this.reader.pause();
  }
}
