/**
 * The component's events, typed: listeners get their arguments' types
 * (merged into the IPCServer class's declaration). Any other event name
 * takes any listener (`never[]` parameters accept every function).
 */
import type { DisconnectReason, IPCConnection } from './types';

export interface IPCServerEvents {
  /** A client connected (after the connection limit check, before authentication). */
  connect: [connection: IPCConnection];
  /** A client's connection ended, and why. */
  disconnect: [connection: IPCConnection, reason: DisconnectReason];
  /** startup() failed; pixl-server then exits 1 after logging it. */
  startup_failed: [error: Error];
  /** This server took socket_path over from a running daemon (`handoff: true`): its pid. */
  takeover: [info: { pid: number }];
  /** A new daemon took socket_path over: this one now shuts pixl-server down; the new daemon's pid. */
  handoff: [info: { pid: number }];
  /** The daemon joined its NATS queue group (`nats` config): requests from the cluster reach it from now on. */
  nats_serving: [info: { subject: string; queue: string }];
}

declare module './server' {
  interface IPCServer {
    on<E extends keyof IPCServerEvents>(event: E, listener: (...args: IPCServerEvents[E]) => void): this;
    on(event: string | symbol, listener: (...args: never[]) => void): this;
    once<E extends keyof IPCServerEvents>(event: E, listener: (...args: IPCServerEvents[E]) => void): this;
    once(event: string | symbol, listener: (...args: never[]) => void): this;
    off<E extends keyof IPCServerEvents>(event: E, listener: (...args: IPCServerEvents[E]) => void): this;
    off(event: string | symbol, listener: (...args: never[]) => void): this;
  }
}
