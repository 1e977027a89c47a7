'use strict';
// Runs the PHP test scripts of test/php (TestRunner.php prints one JSON line per
// test) and checks their results; shared by the tests that drive the PHP client.
const assert = require('assert');
const path = require('path');
const { spawn } = require('child_process');

const PHP_DIR = path.join(__dirname, '..', 'php');

/**
 * Runs one PHP test script. `onSignal(name, child)` answers the script's
 * signals (TestRunner::signal). Resolves to { code, records, stderr }.
 */
function runPhp(script, env, { onSignal, uid, gid, scriptPath } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('php', ['-d', 'display_errors=stderr', '-d', 'error_reporting=-1', '-d', 'memory_limit=-1',
      scriptPath || path.join(PHP_DIR, script)], {
      env: Object.assign({}, process.env, env),
      stdio: ['pipe', 'pipe', 'pipe'],
      uid,
      gid,
    });
    const records = [];
    let stdout = '';
    let stderr = '';
    let signalError = null;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      let nl;
      while ((nl = stdout.indexOf('\n')) !== -1) {
        const line = stdout.slice(0, nl);
        stdout = stdout.slice(nl + 1);
        let record;
        try {
          record = JSON.parse(line);
        } catch (err) {
          record = { stray: line };
        }
        records.push(record);
        if (record.signal) {
          Promise.resolve()
            .then(() => onSignal(record.signal, child))
            .catch((err) => { signalError = err; child.kill(); });
        }
      }
    });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (signalError) reject(signalError);
      else resolve({ code, records, stderr });
    });
  });
}

/** Asserts the script ran to the end and all of its (at least `minTests`) tests passed. */
function assertPassed(result, minTests) {
  const failures = result.records.filter((r) => r.test && !r.ok).map((r) => `${r.test}: ${r.error}`);
  assert.deepStrictEqual(failures, [], `PHP tests failed:\n${failures.join('\n')}\nstderr: ${result.stderr}`);
  const done = result.records.find((r) => r.done);
  assert.ok(done, `the PHP script did not finish (exit ${result.code}); stderr: ${result.stderr}; output: ${JSON.stringify(result.records)}`);
  assert.strictEqual(done.failed, 0);
  assert.ok(done.passed >= minTests, `expected at least ${minTests} PHP tests, ran ${done.passed}`);
  assert.strictEqual(result.stderr, '', 'PHP printed warnings or errors');
  assert.strictEqual(result.code, 0);
}

module.exports = { runPhp, assertPassed, PHP_DIR };
