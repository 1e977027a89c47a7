/**
 * pixl-ipc: `require('pixl-ipc')` is the IPCServer component class, ready for
 * `new PixlServer({ components: [require('pixl-ipc')] })`.
 */
import { IPCServer as IPCServerClass } from './server';
import { componentOf } from './from-server';
import type { IPCServerEvents } from './server-events';
import { ServerErrorCode as ServerErrorCodes, URI as BuiltinURIs } from './protocol';
import type * as Types from './types';
import type { Connection as ConnectionClass } from './connection';

/** What the module adds to the class (an interface, so `IPCServer` and `default` can name the whole export). */
interface IPCServerStatics {
  /** Error codes the server sends. */
  ErrorCode: typeof ServerErrorCodes;
  /** Built-in uris. */
  URI: typeof BuiltinURIs;
  /** The component of a started pixl-server, typed (`server.IPCServer` is `any`); throws when it has none. */
  from(server: object): IPCServerClass;
  /** The export itself, for `import { IPCServer } from 'pixl-ipc'`. */
  IPCServer: IPCServerExport;
  default: IPCServerExport;
}
type IPCServerExport = typeof IPCServerClass & IPCServerStatics;

const exported = IPCServerClass as IPCServerExport;
exported.ErrorCode = ServerErrorCodes;
exported.URI = BuiltinURIs;
exported.from = componentOf;
exported.IPCServer = exported;
exported.default = exported;

// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace IPCServerModule {
  type IPCServer = IPCServerClass;
  type Connection = ConnectionClass;
  type IPCRequest = Types.IPCRequest;
  type Handler = Types.Handler;
  type HandlerCallback = Types.HandlerCallback;
  type Middleware = Types.Middleware;
  type AuthHandler = Types.AuthHandler;
  type AuthInfo = Types.AuthInfo;
  type AuthCredentials = Types.AuthCredentials;
  type Events = IPCServerEvents;
  type DisconnectReason = Types.DisconnectReason;
  type Transport = Types.Transport;
}

const IPCServerModule = exported;
export = IPCServerModule;
