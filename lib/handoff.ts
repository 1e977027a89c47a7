/**
 * Taking over a socket path from a running daemon, without systemd.
 *
 * Node cannot pass a listening socket between unrelated processes, so the new
 * daemon makes its own and swaps the path instead:
 *   1. connect to the running daemon (while the path still leads to it) and
 *      ask it to `prepare`: it checks it can hand off (same uid, a socket it
 *      created itself) and says who it is;
 *   2. bind a socket of our own at a private name, and finish the whole
 *      startup (every component, the app's own setup);
 *   3. rename() our socket over the path: atomic, so the path never stops
 *      leading to a listening socket;
 *   4. `commit` on the connection from step 1: the old daemon checks the
 *      path is no longer its socket, serves what it has for handoff_watch
 *      (taking the path back if we die meanwhile: handoff-standby.ts), then
 *      says goaway to its clients, answers what they already sent and exits.
 * The connection stays open until the old daemon has gone: its closing is
 * how each side learns that the other died. The lock beside the socket
 * (socket-lock.ts) keeps a third daemon out meanwhile.
 *
 * This module is the new daemon's side of that conversation.
 */
import * as net from 'net';
import { LineReader } from './framing';
import { peerCredentials } from './peer-cred';
import { URI } from './protocol';

/** How long each step may take before the takeover is given up. */
const STEP_TIMEOUT_MS = 5000;
/** The old daemon's answers are a few dozen bytes: a longer line ends the conversation. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** The largest pid Linux hands out. */
const MAX_PID = 4194304;

export class HandoffError extends Error {}

/** The longest pause the test hook below allows. */
const MAX_TEST_PAUSE_MS = 10_000;

/**
 * A test hook: with PIXL_IPC_TEST_HANDOFF_PAUSE set (`<step>:<ms>`, or
 * `*:<ms>` for every step), the new daemon says on stderr which step it has
 * reached (`pixl-ipc handoff step: renamed`) and pauses there, so that a test
 * can kill it (or the old daemon) inside that step.
 */
export async function handoffStep(step: 'starting' | 'prepared' | 'renamed' | 'committed'): Promise<void> {
  const setting = process.env.PIXL_IPC_TEST_HANDOFF_PAUSE;
  if (!setting) return;
  process.stderr.write(`pixl-ipc handoff step: ${step}\n`);
  const match = /^(\*|starting|prepared|renamed|committed):(\d{1,5})$/.exec(setting);
  if (match === null || (match[1] !== '*' && match[1] !== step)) return;
  await new Promise((resolve) => setTimeout(resolve, Math.min(Number(match[2]), MAX_TEST_PAUSE_MS)));
}

/** What the running daemon says about itself when it agrees to hand off. */
export interface HandoffAnswer {
  pid: number;
  [field: string]: unknown;
}

export class HandoffPeer {
  private nextId = 1;
  private readonly waiting = new Map<number, (message: Record<string, unknown> | null) => void>();
  private readonly reader: LineReader;
  private closed = false;

  private constructor(private readonly socket: net.Socket, readonly path: string) {
    this.reader = new LineReader(MAX_ANSWER_BYTES, {
      onLine: (line) => this.onLine(line),
      onOverflow: () => this.close(),
    });
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const wake of this.waiting.values()) wake(null);
      this.waiting.clear();
    });
  }

  /**
   * Connects to the daemon listening at `path`; null when nothing listens
   * there (no file, or a stale socket: refused).
   */
  static connect(path: string): Promise<HandoffPeer | null> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new HandoffError(`the daemon at ${path} did not accept a connection within ${STEP_TIMEOUT_MS} ms`));
      }, STEP_TIMEOUT_MS);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new HandoffPeer(socket, path));
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(null);
        else reject(new HandoffError(`cannot connect to ${path}: ${err.message}`));
      });
    });
  }

  /** True once the connection has closed (the daemon at the other end went away, or we closed it). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The uid of the process that listens at the other end (the kernel's word), or null where it cannot be read. */
  get serverUid(): number | null {
    return peerCredentials(this.socket)?.uid ?? null;
  }

  /** Asks the daemon whether it can hand off; resolves with what it says about itself. */
  prepare(): Promise<HandoffAnswer> {
    return this.step('prepare');
  }

  /** Tells the daemon its path now leads to us: it goes away. */
  commit(): Promise<HandoffAnswer> {
    return this.step('commit');
  }

  close(): void {
    this.socket.destroy();
  }

  private async step(step: 'prepare' | 'commit'): Promise<HandoffAnswer> {
    if (this.closed) throw new HandoffError(`the daemon at ${this.path} closed the connection before ${step}`);
    const id = this.nextId++;
    const answer = new Promise<Record<string, unknown> | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(null);
      }, STEP_TIMEOUT_MS);
      this.waiting.set(id, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
    this.socket.write(JSON.stringify({ uri: URI.handoff, ipcReqID: id, data: { step }, pid: process.pid, userAgent: 'pixl-ipc handoff' }) + '\n');
    const message = await answer;
    if (message === null) throw new HandoffError(`the daemon at ${this.path} gave no answer to hand-off ${step}`);
    if (typeof message.code === 'string') {
      throw new HandoffError(`the daemon at ${this.path} refused hand-off ${step}: ${message.code}: ${String(message.message ?? '')}`);
    }
    const data = message.data as Record<string, unknown> | undefined;
    if (!data || typeof data !== 'object' || data.ready !== true || !Number.isInteger(data.pid) || (data.pid as number) < 1 || (data.pid as number) > MAX_PID) {
      // An older server answers an unknown uri inside data (no_handler_found).
      const code = data && typeof data === 'object' && typeof data.code === 'string' ? data.code : 'an unexpected answer';
      throw new HandoffError(`the daemon at ${this.path} cannot hand off (${code}; a version without hand-off?)`);
    }
    return data as HandoffAnswer;
  }

  private onLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (!message || typeof message !== 'object') return;
    const id = (message as { ipcReqID?: unknown }).ipcReqID;
    // Pushes (goaway) and lines for no request of ours are not answers.
    if (typeof id !== 'number') return;
    const wake = this.waiting.get(id);
    if (!wake) return;
    this.waiting.delete(id);
    wake(message as Record<string, unknown>);
  }
}
