/**
 * The NATS transport's connection, seen from the server: a stream the
 * listener hands to the server like an accepted socket. Request lines made
 * from NATS messages are pushed into its readable side; the lines the server
 * writes (answers, stream parts, pushes) come out of its writable side, one
 * call per line, to be published to the callers' reply subjects.
 *
 * So a NATS request goes through the same Connection and pipeline as a
 * socket request: framing limits, max_in_flight (reading pauses, and lines
 * wait here), middleware, policy, deadlines, streams, stats.
 */
import { Duplex } from 'stream';

export class NatsSocket extends Duplex {
  /** What Connection reports as the peer's address. */
  readonly remoteAddress = 'nats';
  /** Lines written by the server (a write may hold several) and not yet split. */
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {
    // allowHalfOpen: the server ends its side at shutdown; we close the whole stream then (see _final).
    super({ allowHalfOpen: true, decodeStrings: false, readableHighWaterMark: 64 * 1024 });
  }

  /** A request line (ending in "\n") for the server to read. False once the server has stopped reading. */
  deliver(line: string): boolean {
    if (this.destroyed || this.readableEnded) return false;
    this.push(line);
    return true;
  }

  /** Bytes pushed and not yet read by the server (reading pauses under max_in_flight). */
  get waiting(): number {
    return this.readableLength;
  }

  override _read(): void {
    // Lines are pushed as messages arrive; nothing to fetch.
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (this.partial !== '') {
      text = this.partial + text;
      this.partial = '';
    }
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end === -1) break;
      // A blank line is the server's probe for a vanished peer: nothing to deliver.
      if (end > start) this.onLine(text.slice(start, end));
      start = end + 1;
    }
    if (start < text.length) this.partial = text.slice(start);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
    // The server ended the connection: nothing more will be read from it either.
    process.nextTick(() => this.destroy());
  }
}
