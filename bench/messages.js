'use strict';
// The messages every benchmark sends, shaped as in the original project's
// performance table: an object of N keys, each holding a 1024-character string.

/** The built-in echo endpoint of the server; the raw baseline answers every uri the same way. */
const ECHO_URI = '/ipcserver/test/echo';

/** Key counts for the per-size workloads (1 key is about 1 KiB of JSON). */
const SIZES = [1, 5, 10, 20, 100, 1024];

/** Largest key count the targets are judged on with both processes pinned to one CPU. */
const PINNED_JUDGE_MAX_KEYS = 20;

/** An object of `keys` keys, each a distinct 1024-character string. */
function sizedMessage(keys) {
  const message = {};
  for (let i = 0; i < keys; i++) {
    // Vary the content so no layer can get away with caching one string.
    const seed = 'k' + i + ':' + 'abcdefghijklmnopqrstuvwxyz0123456789'.slice(i % 36) + ':';
    message['key' + i] = seed.repeat(Math.ceil(1024 / seed.length)).slice(0, 1024);
  }
  return message;
}

/** A small message: the whole request line is about 100 bytes. */
function smallMessage() {
  return { text: 'small pipelined benchmark message', n: 42 };
}

module.exports = { ECHO_URI, SIZES, PINNED_JUDGE_MAX_KEYS, sizedMessage, smallMessage };
