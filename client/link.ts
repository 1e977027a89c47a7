/**
 * One open socket and what reads it: its own line reader (bounded by
 * maxMessageSize, counting lines and bytes), the response handler its lines
 * go to, and what the client learned about this connection (why it failed,
 * whether the server said it is going away).
 *
 * A client has one current link; after the server's goaway it may also keep
 * old ones, draining: nothing more is written to them, their answers are
 * still read, and they are closed once nothing waits on them.
 */

import type * as net from 'net';
import type * as tls from 'tls';
import { openSocket } from './connector';
import { LinkReader } from './link-reader';
import type { PushMessageObject, ResponseHandler } from './response-handler';
import type { Target } from './target';

/** Answers for ids nobody asked for that one connection may send before the client gives up on it. */
export const MAX_UNKNOWN_ANSWERS = 100;

/** Why the client itself closed a link: the code its requests fail with, and why. */
export interface LinkFailure {
  code: string;
  why: string;
}

export interface LinkOptions {
  maxMessageSize: number;
  tls?: tls.ConnectionOptions;
  /** Around the lines of each chunk read (the client batches what their callbacks write). */
  beginDelivery(): void;
  endDelivery(): void;
  /** A line passed maxMessageSize (the link is closed already). */
  onOverflow(link: Link): void;
  /** The server sent something that makes no sense any more (the link is closed already). */
  onNonsense(link: Link): void;
}

export class Link {
  readonly socket: net.Socket;
  readonly reader: LinkReader;
  readonly responses: ResponseHandler;
  /** The first socket error (the usual explanation of a close). */
  socketError: Error | null = null;
  /** The last connection-level error line from the server (e.g. idle_timeout), to explain a close. */
  lastServerError: PushMessageObject | null = null;
  /** Set when the client closed the link because of what the server sent (a line too long, a broken line...). */
  failure: LinkFailure | null = null;
  /** The server is going away: nothing more is written here. */
  draining = false;
  /** While draining: requests written here that still wait for their answer. */
  remaining = 0;
  /** Set when the client lets go of the link: nothing it reads counts any more. */
  detached = false;
  /** Answers for ids nobody asked for, on this link. */
  unknownAnswers = 0;
  readonly #options: LinkOptions;
  #holds = 0;

  /** Opens the socket to `target` (throws on unusable options, e.g. bad tls settings). */
  constructor(target: Target, responses: ResponseHandler, options: LinkOptions) {
    this.responses = responses;
    this.#options = options;
    this.reader = new LinkReader(options.maxMessageSize, {
      onLine: (line, bytes) => {
        if (!this.detached) responses.handleLine(line, bytes);
      },
      onOverflow: (held) => this.fail('message_too_large', 'a response was longer than maxMessageSize (' + options.maxMessageSize + ' bytes; ' + held + ' bytes held)', options.onOverflow),
      onInvalid: () => this.fail('bad_response', 'a line from the server is not valid UTF-8', options.onNonsense),
    });
    this.socket = openSocket(target, {
      tls: options.tls,
      readInto: () => this.reader.readInto(),
      read: (bytes) => this.#deliver(() => this.reader.read(bytes)),
      deliver: (chunk) => this.#deliver(() => this.reader.push(chunk)),
    });
  }

  #deliver(feed: () => void): void {
    if (this.detached) return;
    this.#options.beginDelivery();
    try {
      feed();
    } finally {
      this.#options.endDelivery();
    }
  }

  /**
   * The client gives up on this connection because of what the server sent:
   * closes it; its requests fail with `code` (see Link.failure).
   */
  fail(code: string, why: string, report?: (link: Link) => void): void {
    if (this.failure !== null || this.detached) return;
    this.failure = { code, why };
    this.reader.stop();
    this.socket.destroy();
    if (report) report(this);
  }

  /** Counts an answer for an unknown id; past MAX_UNKNOWN_ANSWERS the link is given up. */
  countUnknownAnswer(): void {
    if (++this.unknownAnswers > MAX_UNKNOWN_ANSWERS) {
      this.fail('bad_response', 'the server sent more than ' + MAX_UNKNOWN_ANSWERS + ' answers for requests nobody made', this.#options.onNonsense);
    }
  }

  /**
   * Stops reading (a stream's consumer is behind): the rest of what was read
   * waits in the reader, the socket stops reading, and the server's own
   * backpressure engages once the kernel buffers fill. Counted: reading
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

  /** The client lets go: stops the scan of what was read at once (also from inside a line handler). */
  detach(): void {
    this.detached = true;
    this.responses.authId = null;
    this.reader.stop();
  }
}
