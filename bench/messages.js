'use strict';
// The messages every benchmark sends, shaped as in the original project's
// performance table (an object of N keys, each holding a 1024-character
// string), plus messages of a given byte size for the size curve.

/** The built-in echo endpoint of the server; the raw baseline answers every uri the same way. */
const ECHO_URI = '/ipcserver/test/echo';

/** Key counts for the per-size workloads (1 key is about 1 KiB of JSON). */
const SIZES = [1, 5, 10, 20, 100, 1024];

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Data sizes in bytes for the size curve, 100 B to 32 MiB. The last one is
 * 32 MiB less 4 KiB: room for the request's envelope, so the whole line stays
 * under the server's default max_message_size of 32 MiB.
 */
const CURVE_BYTES = [100, KiB, 10 * KiB, 100 * KiB, MiB, 4 * MiB, 32 * MiB - 4 * KiB];
/** --quick stops at 1 MiB: a 32 MiB round trip alone takes about half a second per contender. */
const QUICK_CURVE_BYTES = [100, 10 * KiB, MiB];

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

/** An object whose JSON is exactly `bytes` long (at least 8): one string of plain ASCII. */
function bytesMessage(bytes) {
  const length = Math.max(0, bytes - '{"s":""}'.length);
  const pattern = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.:';
  return { s: pattern.repeat(Math.ceil(length / pattern.length)).slice(0, length) };
}

/** The message a spec names: { keys } or { bytes } or { small: true }. */
function messageFor(spec) {
  if (spec.keys) return sizedMessage(spec.keys);
  if (spec.bytes) return bytesMessage(spec.bytes);
  return smallMessage();
}

/** A small message: the whole request line is about 100 bytes. */
function smallMessage() {
  return { text: 'small pipelined benchmark message', n: 42 };
}

/**
 * The points of the sequential round-trip workload: a message of 100 bytes
 * (the one-at-a-time path where the server's per-request work shows most),
 * then SIZES (keys of 1 KiB).
 */
const SMALL_POINT = '100 B';
const LATENCY_POINTS = [SMALL_POINT, ...SIZES];

/** The one-request-at-a-time points of issue 29 (100 B, 1 KiB, 10 KiB): round trip and server CPU judged per size. */
const ONE_AT_A_TIME = [SMALL_POINT, 1, 10];

/** The message spec of a latency point. */
function latencySpec(point) {
  return point === SMALL_POINT ? { bytes: 100 } : { keys: point };
}

/** How a latency (or PHP) point is named in the report: "100 B", "10 KiB", "1 MiB". */
function pointName(point) {
  if (typeof point === 'string') return point;
  return point === 1024 ? '1 MiB' : `${point} KiB`;
}

/** "100 B", "10 KiB", "32 MiB" (sizes just under a unit round up to it). */
function formatBytes(bytes) {
  if (bytes >= MiB - 8 * KiB) return `${Math.round(bytes / MiB)} MiB`;
  if (bytes >= KiB) return `${Math.round(bytes / KiB)} KiB`;
  return `${bytes} B`;
}

module.exports = { SMALL_POINT, LATENCY_POINTS, ONE_AT_A_TIME, latencySpec, pointName, ECHO_URI, SIZES, CURVE_BYTES, QUICK_CURVE_BYTES, KiB, MiB, sizedMessage, bytesMessage, messageFor, smallMessage, formatBytes };
