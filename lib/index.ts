/**
 * pixl-ipc: `require('pixl-ipc')` is the IPCServer component class, ready for
 * `new PixlServer({ components: [require('pixl-ipc')] })`.
 */
import { IPCServer as IPCServerClass } from './server';
import { componentOf } from './from-server';
import type { IPCServerEvents } from './server-events';
import { ServerErrorCode as ServerErrorCodes, URI as BuiltinURIs } from './protocol';
import type * as Types from './types';
import type * as ConfigTypes from './config-types';
import type * as StatsReport from './stats-report';
import type { PeerIdentity as PeerIdentityType } from './peer-cred';
import { PixlServer as PixlServerClass } from './pixl-server';
import type * as Host from './pixl-server';

/** What the module adds to the class (an interface, so `IPCServer` and `default` can name the whole export). */
interface IPCServerStatics {
  /** Error codes the server sends. */
  ErrorCode: typeof ServerErrorCodes;
  /** Built-in uris. */
  URI: typeof BuiltinURIs;
  /** The component of a started pixl-server, typed (pixl-server leaves `server.IPCServer` untyped); throws when it has none. */
  from(server: object): IPCServerClass;
  /**
   * pixl-server's class, typed (pixl-server ships no types): the same object
   * as `require('pixl-server')`, and `config.IPCServer` is checked against
   * IPCServerConfig.
   */
  PixlServer: Host.PixlServerConstructor;
  /** The export itself, for `import { IPCServer } from 'pixl-ipc'`. */
  IPCServer: IPCServerExport;
  default: IPCServerExport;
}
type IPCServerExport = typeof IPCServerClass & IPCServerStatics;

const exported = IPCServerClass as IPCServerExport;
exported.ErrorCode = ServerErrorCodes;
exported.URI = BuiltinURIs;
exported.from = componentOf;
exported.PixlServer = PixlServerClass;
exported.IPCServer = exported;
exported.default = exported;

// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace IPCServerModule {
  type IPCServer = IPCServerClass;
  /** A client connection, as handlers, events and getConnections() see it. */
  type Connection = Types.IPCConnection;
  type IPCConnection = Types.IPCConnection;
  type ConnectionInfo = Types.ConnectionInfo;
  type ConnectionCounters = Types.ConnectionCounters;
  type IPCRequest<Data = unknown> = Types.IPCRequest<Data>;
  type Handler<Data = unknown, Result = unknown> = Types.Handler<Data, Result>;
  type HandlerCallback<Result = unknown> = Types.HandlerCallback<Result>;
  type AnswerStream = Types.AnswerStream;
  type Middleware = Types.Middleware;
  type AuthHandler = Types.AuthHandler;
  type AuthInfo = Types.AuthInfo;
  type AuthCredentials = Types.AuthCredentials;
  type PeerIdentity = PeerIdentityType;
  type Events = IPCServerEvents;
  type DisconnectReason = Types.DisconnectReason;
  type Transport = Types.Transport;
  /** The `IPCServer` section of the pixl-server config. */
  type Config = ConfigTypes.IPCServerConfig;
  type IPCServerConfig = ConfigTypes.IPCServerConfig;
  type PolicyRule = ConfigTypes.PolicyRule;
  /** The configuration as read at startup (`ipc.settings`). */
  type Settings = ConfigTypes.Settings;
  type ConnectionLimits = Types.ConnectionLimits;
  /** What getStats() returns. */
  type Stats = StatsReport.IPCServerStats;
  type IntervalStats = StatsReport.IntervalStats;
  type TotalStats = StatsReport.TotalStats;
  type EndpointReport = StatsReport.EndpointReport;
  type EndpointFigures = StatsReport.EndpointFigures;
  type LatencySummary = StatsReport.LatencySummary;
  type ProcessFigures = StatsReport.ProcessFigures;
  type PixlServer = Host.PixlServer;
  type PixlServerOptions = Host.PixlServerOptions;
  type PixlServerConfig = Host.PixlServerConfig;
}

const IPCServerModule = exported;
export = IPCServerModule;
