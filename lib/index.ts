/**
 * pixl-ipc: `require('pixl-ipc')` is the IPCServer component class, ready for
 * `new PixlServer({ components: [require('pixl-ipc')] })`.
 */
import { IPCServer as IPCServerClass } from './server';
import { ServerErrorCode as ServerErrorCodes, URI as BuiltinURIs } from './protocol';
import type * as Types from './types';
import type { Connection as ConnectionClass } from './connection';

type IPCServerExport = typeof IPCServerClass & {
  /** Error codes the server sends. */
  ErrorCode: typeof ServerErrorCodes;
  /** Built-in uris. */
  URI: typeof BuiltinURIs;
  /** The class itself, for `import { IPCServer } from 'pixl-ipc'`-style code. */
  IPCServer: typeof IPCServerClass;
  default: typeof IPCServerClass;
};

const exported = IPCServerClass as IPCServerExport;
exported.ErrorCode = ServerErrorCodes;
exported.URI = BuiltinURIs;
exported.IPCServer = IPCServerClass;
exported.default = IPCServerClass;

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
  type DisconnectReason = Types.DisconnectReason;
  type Transport = Types.Transport;
}

const IPCServerModule = exported;
export = IPCServerModule;
