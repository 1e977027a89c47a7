// Types of the ES module entry point (esm/pixl-ipc.mjs): the CommonJS
// declarations, as the default export and by name.
import IPCServerModule from '../dist/lib/index.js';

export default IPCServerModule;
export { IPCServer, ErrorCode, URI, from, PixlServer } from '../dist/lib/index.js';
