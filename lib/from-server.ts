/**
 * The typed way to reach the component: pixl-server hands its components out
 * as untyped properties (`server.IPCServer` is `any`), so
 * `IPCServer.from(server)` looks it up and returns it with its type.
 */
import type { IPCServer } from './server';

export function componentOf(server: object): IPCServer {
  const component = server && (server as Record<string, unknown>).IPCServer;
  if (!component || typeof (component as IPCServer).addURIHandler !== 'function') {
    throw new TypeError("pixl-ipc: this pixl-server has no IPCServer component (list require('pixl-ipc') in its components)");
  }
  return component as IPCServer;
}
