'use strict';
// Starts test/soak/worker.php and checks its report line by line as it
// arrives (see that file for the line format).
const path = require('path');
const { spawn } = require('child_process');

const PHP_WORKER = path.join(__dirname, 'worker.php');
/** PixlIPCClient::E_SOCKET_CONNECT and E_SERVER_CLOSE: the errors of a server that went away. */
const E_SOCKET_CONNECT = 5001;
const E_SERVER_CLOSE = 5005;
const MAX_PROBLEMS = 20;

/**
 * Runs one PHP worker with `clients` connections until `stopFile` exists.
 * Resolves nothing itself: the returned report fills in as lines arrive, and
 * `report.exited` resolves to it when the process ends. A problem is any
 * outcome out of order (n must count up from 0 with no gap or repeat), a wrong
 * answer, an answered hangup, or an error other than a lost or refused
 * connection.
 *
 * Successes are counted by server life, from the worker's own clock (the
 * same clock as the test's): `secondServerFrom()` is 0 until the test starts
 * the second server, then the time (ms) it did so, after the first had exited.
 * A success that came back before then was the first server's
 * (`okFirstServer`); one sent after then can only be the second's
 * (`okSecondServer`); one that straddles the restart counts in neither.
 */
function runPhpWorker({ socketPath, stopFile, clients, name, secondServerFrom }) {
  const child = spawn('php', ['-d', 'display_errors=stderr', '-d', 'error_reporting=-1', PHP_WORKER,
    socketPath, stopFile, String(clients), name], { stdio: ['ignore', 'pipe', 'pipe'] });
  const report = {
    name, child, expectedN: 0, ok: 0, okFirstServer: 0, okSecondServer: 0, errors: {}, problems: [], done: null, stderr: '', code: null,
  };
  const problem = (text) => {
    if (report.problems.length < MAX_PROBLEMS) report.problems.push(text);
  };
  const onRecord = (record) => {
    if (record.done) {
      report.done = record;
      return;
    }
    if (record.n !== report.expectedN) problem(`outcome for n=${record.n}, expected n=${report.expectedN} (a request answered twice or not at all)`);
    report.expectedN = record.n + 1;
    if (record.ok && record.hangup) {
      problem(`n=${record.n}: a request whose connection the server dropped was answered`);
    } else if (record.ok) {
      report.ok++;
      const from = secondServerFrom();
      const [sentAt, doneAt] = record.at;
      if (!from || doneAt < from) report.okFirstServer++;
      else if (sentAt >= from) report.okSecondServer++;
    } else if (record.err !== undefined) {
      report.errors[record.err] = (report.errors[record.err] || 0) + 1;
      if (record.err !== E_SERVER_CLOSE && record.err !== E_SOCKET_CONNECT) {
        problem(`n=${record.n}: unexpected error ${record.err} (${record.sc}): ${record.msg}`);
      }
    } else {
      problem('wrong answer: ' + JSON.stringify(record).slice(0, 300));
    }
  };
  let pending = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let record;
      try {
        record = JSON.parse(line);
      } catch (err) {
        problem('not JSON: ' + line.slice(0, 200));
        continue;
      }
      onRecord(record);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { report.stderr += chunk; });
  report.exited = new Promise((resolve) => {
    child.once('error', (err) => {
      report.stderr += String(err);
      report.code = -1;
      resolve(report);
    });
    child.once('close', (code) => {
      report.code = code;
      resolve(report);
    });
  });
  return report;
}

module.exports = { runPhpWorker, E_SOCKET_CONNECT, E_SERVER_CLOSE };
