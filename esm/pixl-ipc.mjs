// ES module entry point of 'pixl-ipc': the CommonJS build, with each of its
// exports also available by name (Node cannot see them through `module.exports = class`).
import IPCServerModule from '../dist/lib/index.js';

export default IPCServerModule;
export const { IPCServer, ErrorCode, URI, from, PixlServer } = IPCServerModule;
