// Types of the ES module entry point (esm/client.mjs): the CommonJS
// declarations, as the default export and by name.
import IPCClient from '../dist/client/index.js';

export default IPCClient;
export { ErrorCode, IPCError } from '../dist/client/index.js';
