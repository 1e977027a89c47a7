// ES module entry point of 'pixl-ipc/client': the CommonJS build, with each of
// its exports also available by name.
import IPCClient from '../dist/client/index.js';

export default IPCClient;
export const { ErrorCode, IPCError, NatsClient, connectHint, diagnoseConnectFailure, renderConnectHint } = IPCClient;
