// Type tests of the server's public API, compiled (never run) by
// test/unit/type-tests.test.js in strict mode: every expectTypeOf must hold,
// and the line after each expect-error directive must fail to compile (a
// directive with nothing to excuse is itself an error).
import { expectTypeOf } from 'expect-type';
import IPCServer, { PixlServer } from 'pixl-ipc';

declare const ipc: IPCServer.IPCServer;

// ----- Handlers: generics infer -----

interface Greeting { name: string }
interface Hello { hello: string }

const typed: IPCServer.Handler<Greeting, Hello> = async (request) => {
  expectTypeOf(request.data).toEqualTypeOf<Greeting>();
  expectTypeOf(request.connection).toEqualTypeOf<IPCServer.Connection>();
  return { hello: request.data.name };
};
ipc.addURIHandler('/typed', 'Typed', typed);

// addURIHandler infers Data from an annotated request, Result from what the handler returns.
ipc.addURIHandler('/inferred', 'Inferred', (request: IPCServer.IPCRequest<{ id: number }>) => {
  expectTypeOf(request.data.id).toBeNumber();
  return { found: true };
});
// ... and from an explicit type argument.
ipc.addURIHandler<Greeting, Hello>('/explicit', 'Explicit', (request, callback) => {
  expectTypeOf(request.data).toEqualTypeOf<Greeting>();
  expectTypeOf(callback).parameter(0).toEqualTypeOf<Hello | undefined>();
  callback({ hello: request.data.name });
});
// Without a type, data is unknown, never any.
ipc.addURIHandler('/untyped', 'Untyped', (request, callback) => {
  expectTypeOf(request.data).toBeUnknown();
  expectTypeOf(request.data).not.toBeAny();
  callback(request.uri);
});
// A callback handler may return what its callback-keeping code returns (1.x style).
const waiting: Array<(result?: unknown) => void> = [];
ipc.addURIHandler('/wait', 'Wait', (request, callback) => waiting.push(callback));
// Streamed answers: an async generator, or openStream().
ipc.addURIHandler('/parts', 'Parts', async function* () { yield 1; return 'done'; });
ipc.addURIHandler('/open', 'Open', async (request) => {
  const stream = request.openStream();
  expectTypeOf(stream.write).returns.toEqualTypeOf<Promise<void>>();
  await stream.write({ part: 1 });
  stream.end();
});

// @ts-expect-error: the handler must answer Hello
const wrongResult: IPCServer.Handler<Greeting, Hello> = async (request) => ({ hello: request.data.name.length });
void wrongResult;
// @ts-expect-error: a synchronous wrong answer too
const wrongSync: IPCServer.Handler<Greeting, Hello> = () => ({ goodbye: 'x' });
void wrongSync;
// @ts-expect-error: the callback takes Hello
ipc.addURIHandler<Greeting, Hello>('/cb', 'Cb', (request, callback) => callback({ hello: 1 }));
// @ts-expect-error: data is Greeting, it has no id
ipc.addURIHandler('/x', 'X', (request: IPCServer.IPCRequest<Greeting>) => request.data.id);
// @ts-expect-error: unknown data cannot be used without narrowing
ipc.addURIHandler('/y', 'Y', (request) => request.data.name);
// @ts-expect-error: a handler needs a name
ipc.addURIHandler('/z', typed);

// ----- Connections: the narrow interface -----

const connection = ipc.getConnections()[0];
expectTypeOf(connection).toEqualTypeOf<IPCServer.Connection>();
expectTypeOf(connection.id).toBeNumber();
expectTypeOf(connection.transport).toEqualTypeOf<'unix' | 'tcp' | 'tls' | 'nats'>();
expectTypeOf(connection.peer).toEqualTypeOf<Readonly<IPCServer.PeerIdentity> | null>();
expectTypeOf(connection.push).returns.toBeBoolean();
expectTypeOf(connection.toJSON()).toEqualTypeOf<IPCServer.ConnectionInfo>();
// @ts-expect-error: the implementation's internals are not part of it
connection.answer;
// @ts-expect-error: nor is its socket-level flush
connection.flush();
// @ts-expect-error: in-flight is read-only to handlers
connection.inFlight = 0;
ipc.on('connect', (c) => expectTypeOf(c).toEqualTypeOf<IPCServer.Connection>());
ipc.broadcast('/news', 1, (c) => c.userAgent !== null);

// ----- Stats -----

const stats = ipc.getStats();
expectTypeOf(stats).toEqualTypeOf<IPCServer.Stats>();
expectTypeOf(stats.totals.requests).toBeNumber();
expectTypeOf(stats.endpoints['Hello'].totals.latencyMs.p99).toBeNumber();
// @ts-expect-error: no such figure
stats.totals.requestz;

// ----- Config -----

new PixlServer({
  __name: 'T', __version: '1',
  config: { IPCServer: { socket_path: '/run/x.sock', max_message_size: 1024, socket_chmod: '660', policy: [{ uri: '^/admin/', users: ['root'] }] } },
  components: [IPCServer],
});
new PixlServer({
  __name: 'T', __version: '1',
  // @ts-expect-error: a misspelled key fails to compile
  config: { IPCServer: { socket_path: '/run/x.sock', max_mesage_size: 1024 } },
  components: [IPCServer],
});
const config: IPCServer.Config = { socket_path: '/run/x.sock', idle_timeout: 60000 };
void config;
// @ts-expect-error: misspelled, in a typed object too
const misspelled: IPCServer.Config = { socket_path: '/run/x.sock', idle_timout: 60000 };
void misspelled;
// @ts-expect-error: socket_path is required
const noSocket: IPCServer.Config = { max_connections: 10 };
void noSocket;
// @ts-expect-error: a number where a string is expected
const wrongType: IPCServer.Config = { socket_path: '/x', listen_host: 7 };
void wrongType;

// ----- The rest of the surface: no any -----

expectTypeOf(IPCServer.from).returns.toEqualTypeOf<IPCServer.IPCServer>();
ipc.setAuthHandler((credentials, info) => {
  expectTypeOf(credentials).toBeUnknown();
  expectTypeOf(info.connection).toEqualTypeOf<IPCServer.Connection>();
  return true;
});
ipc.use((request, next) => {
  expectTypeOf(request.data).toBeUnknown();
  next();
});
expectTypeOf(ipc.settings.maxMessageSize).toBeNumber();
expectTypeOf(ipc.limits).toEqualTypeOf<IPCServer.ConnectionLimits>();
