/**
 * pixl-ipc's public API, by name: the table of contents of the generated
 * reference (`npm run docs:api`, TypeDoc, into docs/api/). The package's own
 * entry points export the same things through `export =` (so that
 * `require('pixl-ipc')` is the class itself), which documentation tools show
 * badly; this file names them one by one. It is not part of the package.
 *
 * - Server: `require('pixl-ipc')` is {@link IPCServer} (with `ErrorCode`, `URI`
 *   and `IPCServer.from()`), its handlers get an {@link IPCRequest}.
 * - Client: `require('pixl-ipc/client')` is {@link IPCClient}; its failures are
 *   {@link IPCError}s with a `code` from {@link ClientErrorCode} or the server's.
 *
 * @module
 */
import IPCClient = require('../client/index');

export { IPCServer } from '../lib/server';
export type { IPCConnection, ConnectionCounters, ConnectionInfo, ConnectionLimits, AnswerStream } from '../lib/types';
export type { IPCServerConfig, PolicyRule, Settings } from '../lib/config-types';
export type { IPCServerStats, IntervalStats, TotalStats, EndpointReport, EndpointFigures, LatencySummary, ProcessFigures } from '../lib/stats-report';
export type { PixlServer, PixlServerOptions, PixlServerConfig } from '../lib/pixl-server';
export type { IPCServerEvents } from '../lib/server-events';
export type { IPCRequest, Handler, HandlerCallback, Middleware, AuthHandler, AuthInfo, AuthCredentials, Transport, DisconnectReason } from '../lib/types';
export { ServerErrorCode, URI } from '../lib/protocol';
export { IPCClient };
export { IPCError, ErrorCode, ClientErrorCode } from '../client/errors';
export type { IPCClientOptions, MessageTransform, ResponseMessageObject } from '../client/options';
export type { ClientStats, LoggerLike, RequestOptions, StreamOptions } from '../client/types';
export type { PartStream } from '../client/part-stream';
