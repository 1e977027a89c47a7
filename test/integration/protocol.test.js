'use strict';
// The wire protocol, driven through a bare socket against the real server.
const assert = require('assert');
const { startServer, cleanupTempDirs } = require('../helpers/harness');
const { rawConnect } = require('../helpers/raw');

const MiB = 1024 * 1024;

function sizedMessage(keys) {
  const message = {};
  for (let i = 0; i < keys; i++) message['key_' + i] = 'GiveMe'.padEnd(1024, 'Dataz');
  return message;
}

describe('wire protocol', function () {
  let h;
  let client;
  before(async function () { h = await startServer({ max_message_size: 20 * MiB }); });
  after(async function () { await h.stop(); cleanupTempDirs(); });
  beforeEach(async function () { client = await rawConnect(h.socketPath); });
  afterEach(function () { client.destroy(); });

  it('answers several requests that arrive in one chunk, matched by id', async function () {
    await client.write('{"uri":"/ipcserver/test/echo","ipcReqID":"a","data":1}\n{"uri":"/ipcserver/test/echo","ipcReqID":"b","data":2}\n');
    const replies = await client.take(2);
    assert.deepStrictEqual(replies.sort((x, y) => x.data - y.data), [{ ipcReqID: 'a', data: 1 }, { ipcReqID: 'b', data: 2 }]);
  });

  it('assembles a request split across many writes, including inside a multi-byte character', async function () {
    const bytes = Buffer.from(JSON.stringify({ uri: '/ipcserver/test/echo', ipcReqID: 'u', data: { text: 'naïve café € 𝄞 日本' } }) + '\n');
    for (let i = 0; i < bytes.length; i += 3) {
      await client.write(bytes.subarray(i, i + 3));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepStrictEqual(await client.next(), { ipcReqID: 'u', data: { text: 'naïve café € 𝄞 日本' } });
  });

  it('tolerates CRLF line endings and ignores blank lines', async function () {
    await client.write('\n\r\n   \n{"uri":"/ipcserver/test/echo","ipcReqID":"crlf","data":"x"}\r\n');
    assert.deepStrictEqual(await client.next(), { ipcReqID: 'crlf', data: 'x' });
    assert.strictEqual(client.lines.length, 0);
  });

  it('answers a request without an id with ipcReqID null, and keeps numeric ids', async function () {
    await client.write({ uri: '/ipcserver/test/echo', data: 'no id' });
    assert.deepStrictEqual(await client.next(), { ipcReqID: null, data: 'no id' });
    await client.write({ uri: '/ipcserver/test/echo', data: 'zero', ipcReqID: 0 });
    assert.deepStrictEqual(await client.next(), { ipcReqID: 0, data: 'zero' });
  });

  it('refuses a request without uri with no_uri', async function () {
    await client.write({ ipcReqID: 'nouri', data: {} });
    const reply = await client.next();
    assert.strictEqual(reply.ipcReqID, 'nouri');
    assert.strictEqual(reply.code, 'no_uri');
    assert.ok(reply.message);
  });

  it('sends unknown uris to the default handler, with the error inside data', async function () {
    await client.write({ uri: '/no/such/thing', ipcReqID: 'x' });
    const reply = await client.next();
    assert.strictEqual(reply.ipcReqID, 'x');
    assert.strictEqual(reply.data.code, 'no_handler_found');
    assert.match(reply.data.message, /\/no\/such\/thing/);
  });

  it('answers bad JSON with bad_json and keeps the connection usable', async function () {
    await client.write('this is {not json\n');
    const reply = await client.next();
    assert.strictEqual(reply.ipcReqID, null);
    assert.strictEqual(reply.code, 'bad_json');
    assert.ok(reply.message);
    await client.write({ uri: '/ipcserver/test/echo', ipcReqID: 'after', data: 1 });
    assert.deepStrictEqual(await client.next(), { ipcReqID: 'after', data: 1 });
  });

  it('refuses values that are not objects, non-string uris and bad ids, and stays usable', async function () {
    await client.write('[1,2]\n42\n"text"\nnull\n');
    for (const reply of await client.take(4)) assert.strictEqual(reply.code, 'bad_request');
    await client.write({ uri: 42, ipcReqID: 'n' });
    assert.strictEqual((await client.next()).code, 'bad_request');
    await client.write({ uri: '/ipcserver/test/echo', ipcReqID: { nested: true } });
    assert.strictEqual((await client.next()).code, 'bad_request');
    await client.write({ uri: '/ipcserver/test/echo', ipcReqID: 'ok', data: 'still here' });
    assert.deepStrictEqual(await client.next(), { ipcReqID: 'ok', data: 'still here' });
  });

  it('answers out of order when handlers finish out of order', async function () {
    await client.write('{"uri":"/ipcserver/test/delay","ipcReqID":"slow","data":{"delay":60}}\n{"uri":"/ipcserver/test/delay","ipcReqID":"fast","data":{"delay":1}}\n');
    const [first, second] = await client.take(2);
    assert.strictEqual(first.ipcReqID, 'fast');
    assert.strictEqual(second.ipcReqID, 'slow');
  });

  it('round-trips 1 MiB and 16 MiB messages', async function () {
    this.timeout(30000);
    for (const keys of [1024, 16 * 1024]) {
      const data = sizedMessage(keys);
      await client.write({ ipcReqID: 'big' + keys, uri: '/ipcserver/test/echo', data });
      const reply = await client.next(20000);
      assert.strictEqual(reply.ipcReqID, 'big' + keys);
      assert.strictEqual(Object.keys(reply.data).length, keys);
      assert.strictEqual(reply.data['key_' + (keys - 1)], data['key_' + (keys - 1)]);
    }
  });

  it('refuses a line over max_message_size while reading it, names the request, closes only that connection', async function () {
    this.timeout(20000);
    const other = await rawConnect(h.socketPath);
    const head = '{"ipcReqID":"huge","uri":"/ipcserver/test/echo","data":"';
    // 21 MiB without a newline: the server must answer before the line ends.
    const chunk = Buffer.alloc(MiB, 'a');
    await client.write(head);
    let refusedEarly = false;
    for (let i = 0; i < 21 && !refusedEarly; i++) {
      await client.write(chunk);
      refusedEarly = client.lines.length > 0 || client.ended;
    }
    const reply = await client.next(5000);
    assert.strictEqual(reply.ipcReqID, 'huge');
    assert.strictEqual(reply.code, 'message_too_large');
    await client.waitEnd();
    await other.write({ uri: '/ipcserver/test/echo', ipcReqID: 'other', data: 'fine' });
    assert.deepStrictEqual(await other.next(), { ipcReqID: 'other', data: 'fine' });
    other.destroy();
  });
});
