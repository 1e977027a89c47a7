'use strict';
// The measuring loops, run inside a client process. Each takes connected
// clients with the same send(uri, data, callback) shape (raw or ours), so the
// only difference between two runs is the client and server under test.
const { ECHO_URI } = require('./messages');

const nowNs = () => process.hrtime.bigint();

/**
 * Sequential round trips, one in flight. Runs until `maxCount` round trips or
 * until `budgetMs` has passed and at least `minCount` were done. When
 * `samples` is given, each round trip's time in µs is stored in it.
 * Resolves to the number of round trips.
 */
function sequential(client, data, { maxCount, minCount, budgetMs, samples }) {
  return new Promise((resolve, reject) => {
    const deadline = nowNs() + BigInt(Math.round(budgetMs * 1e6));
    let count = 0;
    let started = 0n;
    const onReply = (err) => {
      const finished = nowNs();
      if (err) return reject(err);
      if (samples) samples[count] = Number(finished - started) / 1000;
      count++;
      if (count >= maxCount || (count >= minCount && finished >= deadline)) return resolve(count);
      started = nowNs();
      client.send(ECHO_URI, data, onReply);
    };
    started = nowNs();
    client.send(ECHO_URI, data, onReply);
  });
}

/**
 * Keeps `inFlight` requests outstanding on every client for `durationMs`,
 * then lets them drain. Resolves to { completed, elapsedMs }.
 */
function pipelined(clients, data, inFlight, durationMs) {
  return new Promise((resolve, reject) => {
    let completed = 0;
    let outstanding = 0;
    let stopping = false;
    let failed = false;
    const started = nowNs();
    const timer = setTimeout(() => { stopping = true; }, durationMs);
    for (const client of clients) {
      const onReply = (err) => {
        if (failed) return;
        if (err) {
          failed = true;
          clearTimeout(timer);
          return reject(err);
        }
        completed++;
        if (!stopping) {
          client.send(ECHO_URI, data, onReply);
          return;
        }
        if (--outstanding === 0) resolve({ completed, elapsedMs: Number(nowNs() - started) / 1e6 });
      };
      for (let i = 0; i < inFlight; i++) {
        outstanding++;
        client.send(ECHO_URI, data, onReply);
      }
    }
  });
}

module.exports = { sequential, pipelined };
