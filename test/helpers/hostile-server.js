#!/usr/bin/env node
'use strict';
// A hostile (or badly broken) pixl-ipc server: a real Unix socket server that
// misbehaves in one chosen way, so client tests can check that every call
// still settles with a clear code by its deadline and that the client's
// memory stays bounded. Clients in any language can use it:
//
//   node test/helpers/hostile-server.js --mode trickle --socket PATH [--interval MS] [--until-stdin-closes]
//
// prints READY once it listens, nothing else, and runs until SIGTERM/SIGKILL
// (or, with --until-stdin-closes, until its stdin closes: a test that dies
// leaves no server behind). It removes its socket file when it exits on its
// own. From Node tests: startHostileServer({ mode, socketPath }).
//
// Modes (each starts when a connection sends its first line, the auth request
// included, unless said otherwise):
//   endless-line    one answer line that never ends, written as fast as the client reads
//   trickle         8 KiB of an answer line without a line feed, then one byte per write
//   byte-drip       one byte of an answer line every --interval ms (default 100), forever
//   push-flood      pushes (lines without ipcReqID) as fast as the client reads
//   endless-parts   every request is answered with stream parts, forever, never the final line
//   unknown-ids     answers with ids nobody asked for, as fast as the client reads; never the real one
//   silence         reads everything, answers nothing, never closes
//   invalid-utf8    answers each request with a line of bytes that are not UTF-8
//   invalid-json    answers each request with a line that is not JSON
//   half-line       writes half of a valid answer line, then closes the connection
//   accept-then-close  reads the first line, then closes (no answer)
//   identity        a well-behaved echo of request data, for control runs
const fs = require('fs');
const net = require('net');
const path = require('path');

const MODES = ['endless-line', 'trickle', 'byte-drip', 'push-flood', 'endless-parts', 'unknown-ids', 'silence',
  'invalid-utf8', 'invalid-json', 'half-line', 'accept-then-close', 'identity'];

/** Writes what `next()` gives whenever the socket can take more, until it returns null or the socket closes. */
function pump(socket, next) {
  const go = () => {
    while (!socket.destroyed) {
      const chunk = next();
      if (chunk === null) return;
      if (!socket.write(chunk)) {
        socket.once('drain', go);
        return;
      }
    }
  };
  go();
}

/** Writes one byte (or chunk) per event-loop turn, so each is its own write on the wire. */
function drip(socket, next, intervalMs) {
  const tick = () => {
    if (socket.destroyed) return;
    const chunk = next();
    if (chunk === null) return;
    // Wait for the kernel to take each write, so writes are not merged in our own buffer.
    if (socket.write(chunk)) schedule();
    else socket.once('drain', schedule);
  };
  const schedule = () => (intervalMs > 0 ? setTimeout(tick, intervalMs) : setImmediate(tick));
  tick();
}

function idOf(line) {
  try {
    const request = JSON.parse(line);
    return request && request.ipcReqID !== undefined ? request.ipcReqID : null;
  } catch {
    return null;
  }
}

const FILLER = Buffer.alloc(64 * 1024, 'x');

/** What one connection does in `mode`, given each request line as it arrives. */
function behave(mode, socket, options) {
  let started = false;
  const onFirst = (id) => {
    switch (mode) {
      case 'endless-line':
        socket.write(`{"ipcReqID":${JSON.stringify(id)},"data":"`);
        pump(socket, () => FILLER);
        return;
      case 'trickle': {
        socket.write(`{"ipcReqID":${JSON.stringify(id)},"data":"` + 'x'.repeat(8 * 1024));
        const one = Buffer.from('x');
        drip(socket, () => one, 0);
        return;
      }
      case 'byte-drip': {
        const head = Buffer.from(`{"ipcReqID":${JSON.stringify(id)},"data":"`);
        let at = 0;
        drip(socket, () => (at < head.length ? head.subarray(at, ++at) : Buffer.from('x')), options.interval);
        return;
      }
      case 'push-flood': {
        const push = Buffer.from(JSON.stringify({ uri: '/flood', data: 'x'.repeat(1000) }) + '\n');
        const batch = Buffer.concat(Array(64).fill(push));
        pump(socket, () => batch);
        return;
      }
      case 'unknown-ids': {
        let n = 0;
        pump(socket, () => {
          let lines = '';
          for (let i = 0; i < 200; i++) lines += JSON.stringify({ ipcReqID: 'nobody-' + n++, data: 'x'.repeat(200) }) + '\n';
          return lines;
        });
        return;
      }
      case 'half-line': {
        const line = JSON.stringify({ ipcReqID: id, data: { half: 'of this line arrives' } });
        socket.end(line.slice(0, line.length >> 1));
        return;
      }
      case 'accept-then-close':
        socket.destroy();
        return;
      default:
    }
  };
  const onEach = (id) => {
    switch (mode) {
      case 'endless-parts': {
        if (id === null) return;
        const part = Buffer.from(JSON.stringify({ ipcReqID: id, part: { row: 'x'.repeat(500) } }) + '\n');
        const batch = Buffer.concat(Array(64).fill(part));
        pump(socket, () => batch);
        return;
      }
      case 'invalid-utf8':
        // A line that frames well but is no UTF-8: lone continuation bytes and an overlong encoding.
        socket.write(Buffer.concat([Buffer.from(`{"ipcReqID":${JSON.stringify(id)},"data":"`), Buffer.from([0x80, 0xbf, 0xc0, 0xaf, 0xff, 0xfe]), Buffer.from('"}\n')]));
        return;
      case 'invalid-json':
        socket.write(`{"ipcReqID":${JSON.stringify(id)},"data":` + '{{{ not json\n');
        return;
      case 'identity':
        try {
          const request = JSON.parse(options.lastLine);
          if (request.ipcReqID !== undefined) socket.write(JSON.stringify({ ipcReqID: request.ipcReqID, data: request.data === undefined ? null : request.data }) + '\n');
        } catch {
          // A line that is not JSON: nothing to answer.
        }
        return;
      default:
    }
  };
  let held = '';
  socket.on('data', (chunk) => {
    held += chunk.toString('latin1');
    if (held.length > 1024 * 1024) held = held.slice(-1024 * 1024);
    let newline;
    while ((newline = held.indexOf('\n')) !== -1) {
      const line = held.slice(0, newline);
      held = held.slice(newline + 1);
      if (line === '') continue;
      const id = idOf(line);
      options.lastLine = line;
      if (!started) {
        started = true;
        onFirst(id);
      }
      onEach(id);
    }
  });
  socket.on('error', () => {});
}

/** Listens on `socketPath` with `mode`; resolves to the net.Server once it listens. */
function listenHostile({ mode, socketPath, interval = 100 }) {
  if (!MODES.includes(mode)) throw new Error(`unknown mode ${mode}; modes: ${MODES.join(', ')}`);
  const server = net.createServer((socket) => behave(mode, socket, { interval }));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}

/**
 * Runs a hostile server in a child process (so its writing never competes
 * with the client under test for one event loop). Resolves to
 * { socketPath, pid, stop() } once it listens.
 */
function startHostileServer({ mode, socketPath, interval }) {
  const { spawn } = require('child_process');
  const args = [__filename, '--mode', mode, '--socket', socketPath, '--until-stdin-closes'];
  if (interval !== undefined) args.push('--interval', String(interval));
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`hostile server (${mode}) exited ${code} before it listened`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (!out.includes('READY')) return;
      child.removeAllListeners('exit');
      const exited = new Promise((done) => child.once('exit', done));
      resolve({
        socketPath,
        pid: child.pid,
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          return exited.then(() => fs.rmSync(socketPath, { force: true }));
        },
      });
    });
  });
}

function parseArgs(argv) {
  const options = {};
  const untilStdinCloses = argv.includes('--until-stdin-closes');
  argv = argv.filter((arg) => arg !== '--until-stdin-closes');
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!['mode', 'socket', 'interval'].includes(name) || argv[i + 1] === undefined) {
      throw new Error(`usage: hostile-server.js --mode (${MODES.join('|')}) --socket PATH [--interval MS] [--until-stdin-closes]`);
    }
    options[name] = argv[i + 1];
  }
  if (!options.mode || !options.socket) throw new Error('--mode and --socket are required');
  return { mode: options.mode, socketPath: path.resolve(options.socket), interval: options.interval === undefined ? 100 : Number(options.interval), untilStdinCloses };
}

if (require.main === module) {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(err.message + '\n');
    process.exit(2);
  }
  listenHostile(options).then(() => {
    process.stdout.write('READY\n');
    const quit = () => process.exit(0);
    if (options.untilStdinCloses) {
      process.stdin.on('end', quit);
      process.stdin.on('close', quit);
      process.stdin.resume();
    }
    process.on('SIGTERM', quit);
    process.on('exit', () => { try { fs.unlinkSync(options.socketPath); } catch { /* already gone */ } });
  }, (err) => {
    process.stderr.write(`cannot listen on ${options.socketPath}: ${err.message}\n`);
    process.exit(1);
  });
}

module.exports = { startHostileServer, listenHostile, MODES };
