'use strict';
// The published package, as a consumer installs it from `npm pack`: what the
// tarball holds, what installing it prints, and that every entry point loads
// in CommonJS and ESM with the names its declarations promise.
const assert = require('assert');
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { packedConsumer } = require('../helpers/consumer');
const { brokenLinks, links, userPages } = require('../helpers/doc-links');

const root = path.join(__dirname, '..', '..');

function runNode(dir, file, source) {
  fs.writeFileSync(path.join(dir, file), source);
  return execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' });
}

describe('package: npm pack, then npm install in a consumer project', function () {
  this.timeout(180000);
  let consumer;
  before(function () {
    consumer = packedConsumer();
  });

  it('installs without a single npm warning', function () {
    assert.doesNotMatch(consumer.installOutput, /warn/i, consumer.installOutput);
  });

  it('ships what users need and no TypeScript sources, tests or command declarations', function () {
    const { files } = consumer;
    for (const needed of ['LICENSE', 'README.md', 'CHANGELOG.md', 'PROTOCOL.md', 'package.json',
      'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/client/index.js', 'dist/client/index.d.ts',
      'dist/bin/pixl-ipc.js', 'esm/pixl-ipc.mjs', 'esm/client.mjs',
      'php-client/PixlIPCClient.class.php', 'clients/PixlIPCClient.class.php']) {
      assert.ok(files.includes(needed), `${needed} missing from the tarball`);
    }
    const unwanted = files.filter((file) => (/\.ts$/.test(file) && !/\.d\.ts$/.test(file))
      || /^dist\/bin\/.*\.d\.ts$/.test(file) || /(^|\/)test\//.test(file) || /\.test\.js$/.test(file)
      || /^(lib|client|bin|bench|scripts|\.ci)\//.test(file));
    assert.deepStrictEqual(unwanted, []);
  });

  it('links in README.md, PROTOCOL.md, CHANGELOG.md and docs/*.md point at files the tarball has (npm shows them)', function () {
    const broken = [];
    const pages = userPages(root);
    for (const doc of pages) {
      assert.ok(consumer.files.includes(doc), `${doc} missing from the tarball`);
      for (const { target, line } of links(fs.readFileSync(path.join(root, doc), 'utf8'))) {
        if (target.startsWith('#')) continue;
        const file = path.posix.normalize(path.posix.join(path.posix.dirname(doc), target.replace(/#.*$/, '')));
        if (!consumer.files.includes(file)) broken.push(`${doc}:${line}: ${target}`);
      }
    }
    assert.ok(pages.length >= 15, 'too few pages: is docs/ there?');
    assert.deepStrictEqual(broken, []);
  });

  it('every link between the pages leads to a file and a heading that exist', function () {
    assert.deepStrictEqual(brokenLinks(root, userPages(root)), []);
  });

  it('has no prepare script in the packed manifest, and the checkout keeps its own', function () {
    const packed = JSON.parse(fs.readFileSync(path.join(consumer.dir, 'node_modules', 'pixl-ipc', 'package.json'), 'utf8'));
    assert.strictEqual(packed.scripts.prepare, undefined);
    for (const field of ['repository', 'homepage', 'bugs', 'license']) assert.ok(packed[field], `no ${field}`);
    const checkout = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    assert.match(checkout.scripts.prepare, /^tsc -p \. /);
    assert.ok(!fs.existsSync(path.join(root, '.package.json.before-pack')), 'postpack left its backup behind');
  });

  it("loads the 1.x entry points: require('pixl-ipc/client.js') and the PHP client's old path", function () {
    const out = runNode(consumer.dir, 'old-names.js', `
      const IPCClient = require('pixl-ipc/client.js');
      console.log(IPCClient === require('pixl-ipc/client'), typeof IPCClient, typeof require('pixl-ipc'));
    `);
    assert.strictEqual(out.trim(), 'true function function');
    const php = spawnSync('php', ['-r', "require 'node_modules/pixl-ipc/clients/PixlIPCClient.class.php'; echo class_exists('PixlIPCClient') ? 'yes' : 'no';"], { cwd: consumer.dir, encoding: 'utf8' });
    assert.strictEqual(php.stdout, 'yes', php.stderr);
  });

  for (const [entry, esmFile] of [['pixl-ipc', 'pixl-ipc'], ['pixl-ipc/client', 'client'], ['pixl-ipc/client.js', 'client']]) {
    it(`every export of require('${entry}') is also a named ES module export of the same value`, function () {
      const out = runNode(consumer.dir, `named-${esmFile}.mjs`, `
        import { createRequire } from 'module';
        import * as esm from '${entry}';
        const cjs = createRequire(import.meta.url)('${entry}');
        const names = Object.keys(cjs);
        const missing = names.filter((name) => esm[name] !== cjs[name]);
        console.log(JSON.stringify({ names, missing, default: esm.default === cjs, extra: Object.keys(esm).filter((n) => n !== 'default' && !names.includes(n)) }));
      `);
      const result = JSON.parse(out);
      assert.ok(result.names.length >= 2, out);
      assert.deepStrictEqual(result.missing, []);
      assert.deepStrictEqual(result.extra, []);
      assert.strictEqual(result.default, true);
    });
  }

  it("imports each name the declarations export, and IPCServer.from() finds the component", function () {
    const out = runNode(consumer.dir, 'named.mjs', `
      import PixlServer from 'pixl-server';
      import IPCServerDefault, { IPCServer, ErrorCode, URI, from } from 'pixl-ipc';
      import IPCClient, { ErrorCode as ClientCodes, IPCError } from 'pixl-ipc/client';
      const server = new PixlServer({ __name: 'T', __version: '1', config: { foreground: true, IPCServer: { socket_path: '/unused' } }, components: [IPCServer] });
      console.log([IPCServer === IPCServerDefault, from(server) === server.IPCServer, IPCServer.from(server) instanceof IPCServer,
        ErrorCode.badJson, URI.echo, typeof IPCClient, ClientCodes.requestTimeout, new IPCError('x', 'y') instanceof Error].join(' '));
      try { from({}); } catch (err) { console.log(err.message); }
    `);
    const [first, second] = out.trim().split('\n');
    assert.strictEqual(first, 'true true true bad_json /ipcserver/test/echo function request_timeout true');
    assert.match(second, /has no IPCServer component/);
  });
});
