/**
 * The wire contract between pixl-ipc servers and clients, in code.
 * PROTOCOL.md describes the same thing in prose; keep them in step.
 */

/** A request id as it travels on the wire. */
export type RequestId = string | number;

/** A request as a client sends it (one JSON object per line). */
export interface RequestMessage {
  uri: string;
  data?: unknown;
  ipcReqID?: RequestId;
  pid?: number;
  userAgent?: string;
  /** Fire-and-forget: the server runs the request and sends nothing back. */
  noReply?: boolean;
  /** The caller's deadline, in ms from when the server reads the line. */
  timeoutMs?: number;
  /** The caller accepts a streamed answer: part lines, then the final answer. */
  stream?: boolean;
}

/** A response: `data` on success, `code` and `message` on a protocol-level error. */
export interface ResponseMessage {
  ipcReqID: RequestId | null;
  data?: unknown;
  code?: string;
  message?: string;
}

/** A message the server sends on its own (push, broadcast): it has no ipcReqID. */
export interface PushMessage {
  uri: string;
  data?: unknown;
}

/** Built-in URIs. */
export const URI = {
  echo: '/ipcserver/test/echo',
  delay: '/ipcserver/test/delay',
  stats: '/ipcserver/stats',
  metrics: '/ipcserver/metrics',
  auth: '/ipcserver/auth',
  /** Control message: `{ipcReqID}` of a running request the caller gave up on. */
  cancel: '/ipcserver/cancel',
  /** Push from a stopping server: `{reason: "shutdown" | "handoff"}`; reconnect, requests refused with shutting_down never ran. */
  goaway: '/ipcserver/goaway',
  /** Control request from a daemon taking over the socket path (`{step: "prepare" | "commit"}`); only from the daemon's own uid. */
  handoff: '/ipcserver/handoff',
} as const;

/** Why a server says goaway. */
export type GoawayReason = 'shutdown' | 'handoff';

/** Error codes the server puts in the `code` of an error response. */
export const ServerErrorCode = {
  /** The line is not valid JSON. */
  badJson: 'bad_json',
  /** The JSON value is not an object, or a field has the wrong type. */
  badRequest: 'bad_request',
  /** The request has no `uri`. */
  noUri: 'no_uri',
  /** No handler matched (sent inside `data`, as the original server did). */
  noHandlerFound: 'no_handler_found',
  /** The line passed `max_message_size`; the connection is closed after this. */
  messageTooLarge: 'message_too_large',
  /** The server is at `max_connections`; the connection is closed after this. */
  tooManyConnections: 'too_many_connections',
  /** The handler threw or rejected without a code of its own. */
  handlerError: 'handler_error',
  /** Not authenticated, wrong credentials, or a peer not allowed to connect (allow_users/allow_groups; the connection is closed after it). */
  access: 'access',
  /** The caller's identity may not call this uri (a `policy` rule); the connection stays open. */
  forbidden: 'forbidden',
  /** The server is shutting down and takes no new requests. */
  shuttingDown: 'shutting_down',
  /** The connection was idle longer than `idle_timeout`; it is closed after this. */
  idleTimeout: 'idle_timeout',
  /** The connection did not authenticate within `auth_timeout`; it is closed after this. */
  authTimeout: 'auth_timeout',
  /** `/ipcserver/test/delay` got a delay that is not a non-negative number. */
  badDelay: 'bad_delay',
  /** The request's `timeoutMs` passed before its handler answered. */
  deadlineExceeded: 'deadline_exceeded',
  /** The caller cancelled the request (`/ipcserver/cancel`). */
  cancelled: 'cancelled',
  /**
   * The server stopped while the request was running (at the end of
   * exit_timeout): unlike shutting_down, it did start, so it must not be
   * re-sent blindly.
   */
  interrupted: 'interrupted',
  /** A line was not complete within `line_timeout`; the connection is closed after this. */
  lineTimeout: 'line_timeout',
  /** The server-wide input or output budget is spent and this connection holds the most; it is closed after this. */
  overloaded: 'overloaded',
  /**
   * The request was not run: what it would hold once parsed (or the answer
   * collected for it) would pass a memory budget (max_in_flight_bytes_per_user
   * or max_in_flight_total; the message says which). The connection stays
   * open; retrying once other requests have finished may succeed, unless the
   * request alone is bigger than the budget.
   */
  overBudget: 'over_budget',
} as const;

/** Why a running request's `signal` was aborted: `signal.reason.code` is one of these. */
export const AbortCode = {
  cancelled: 'cancelled',
  deadlineExceeded: 'deadline_exceeded',
  disconnected: 'disconnected',
  shuttingDown: 'shutting_down',
  /** A streamed answer collected for a caller that did not ask for a stream outgrew max_output_buffer. */
  messageTooLarge: 'message_too_large',
  /** The same, for an answer collected past a memory budget (see ServerErrorCode.overBudget). */
  overBudget: 'over_budget',
} as const;

/** The longest timeoutMs honoured (setTimeout's limit); longer ones are treated as this. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Codes after which the server closes the connection (PROTOCOL.md lists the
 * same). Also `access` when it answers `/ipcserver/auth` (wrong credentials);
 * an `access` answer to any other request leaves the connection open.
 */
export const CLOSING_CODES: readonly string[] = Object.freeze([
  ServerErrorCode.messageTooLarge,
  ServerErrorCode.tooManyConnections,
  ServerErrorCode.shuttingDown,
  ServerErrorCode.idleTimeout,
  ServerErrorCode.authTimeout,
  ServerErrorCode.lineTimeout,
  ServerErrorCode.overloaded,
]);

/**
 * A request line that passed the shape checks: the decoded object as sent.
 * Its id may be missing and its noReply anything; the request made from it
 * (call.ts) has them normalized (null, and true only for a literal true).
 * Nothing is written to the decoded object here: a field added to it would
 * change its shape, and the usual request is copied field by field anyway.
 */
export interface ParsedRequest extends Omit<RequestMessage, 'ipcReqID' | 'noReply'> {
  ipcReqID?: RequestId | null;
  noReply?: unknown;
  [field: string]: unknown;
}

/** A line the server refuses before it becomes a request, and how to answer it. */
export class Refusal {
  constructor(
    /** The id to answer with (null when the line has none or it cannot be trusted). */
    readonly id: RequestId | null,
    readonly code: string,
    readonly message: string,
    /** The line asked for no answer: the refusal is counted but not sent. */
    readonly noReply: boolean,
  ) {}
}

/**
 * JSON.parse's reason for refusing a line, without the excerpt of the line that
 * V8 quotes in some messages: the line may carry a secret (a malformed auth
 * request), and the reason is logged.
 */
function jsonErrorReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.includes(' is not valid JSON') ? 'unexpected token' : message;
}

/**
 * Checks one line's shape. Returns the request, a Refusal, or null for a blank
 * line (which is ignored). Pure: it looks at nothing but the line.
 */
export function parseRequest(line: string): ParsedRequest | Refusal | null {
  let message: any;
  try {
    message = JSON.parse(line);
  } catch (err) {
    if (line.trim() === '') return null;
    return new Refusal(null, ServerErrorCode.badJson, `Request is not valid JSON: ${jsonErrorReason(err)}`, false);
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    return new Refusal(null, ServerErrorCode.badRequest, 'Request must be a JSON object', false);
  }
  const id = message.ipcReqID;
  if (id !== undefined && id !== null && !isRequestId(id)) {
    return new Refusal(null, ServerErrorCode.badRequest, 'ipcReqID must be a string or a number', false);
  }
  // Only a literal true marks fire-and-forget, for handled and refused requests alike.
  const noReply = message.noReply === true;
  const uri = message.uri;
  if (typeof uri !== 'string' || uri === '') {
    if (uri === undefined || uri === null || uri === '') {
      return new Refusal(id ?? null, ServerErrorCode.noUri, 'Missing required uri parameter from request', noReply);
    }
    return new Refusal(id ?? null, ServerErrorCode.badRequest, 'uri must be a string', noReply);
  }
  const timeoutMs = message.timeoutMs;
  if (timeoutMs !== undefined && timeoutMs !== null && !(typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= Number.MAX_SAFE_INTEGER)) {
    return new Refusal(id ?? null, ServerErrorCode.badRequest, 'timeoutMs must be a positive number of milliseconds', noReply);
  }
  return message as ParsedRequest;
}

function encodeId(id: RequestId | null | undefined): string {
  if (id === undefined || id === null) return 'null';
  if (typeof id === 'number') return numberText(id);
  return needsNoEscaping(id) ? '"' + id + '"' : JSON.stringify(id);
}

/**
 * True when JSON.stringify would only add the quotes (printable ASCII without
 * `"` or `\`), as with ids like "rq17": quoted directly, since an id is
 * encoded on every request and every response.
 */
function needsNoEscaping(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** `data` is left out when undefined, as JSON.stringify would do for an object. */
function encodeDataField(data: unknown): string {
  if (data === undefined) return '';
  const json = JSON.stringify(data);
  return json === undefined ? '' : ',"data":' + json;
}

/** A success response line, built without an intermediate object. */
export function responseLine(id: RequestId | null | undefined, data: unknown): string {
  return '{"ipcReqID":' + encodeId(id) + encodeDataField(data) + '}\n';
}

/** A success response line whose data is already JSON. */
export function responseLineOfJson(id: RequestId | null | undefined, json: string): string {
  return '{"ipcReqID":' + encodeId(id) + ',"data":' + json + '}\n';
}

/** An error response line. */
export function errorLine(id: RequestId | null | undefined, code: string, message: string): string {
  return '{"ipcReqID":' + encodeId(id) + ',"code":' + JSON.stringify(code) + ',"message":' + JSON.stringify(message) + '}\n';
}

/** One part of a streamed answer. */
export function partLine(id: RequestId | null | undefined, json: string): string {
  return '{"ipcReqID":' + encodeId(id) + ',"part":' + json + '}\n';
}

/** A server-initiated message line (push or broadcast). */
export function pushLine(uri: string, data: unknown): string {
  return '{"uri":' + JSON.stringify(uri) + encodeDataField(data) + '}\n';
}

/** "0".."999", and the same zero-padded to three digits: the groups numberText() joins. */
const DIGITS: readonly string[] = Array.from({ length: 1000 }, (_, i) => i.toFixed(0));
const DIGITS_PADDED: readonly string[] = DIGITS.map((text) => text.padStart(3, '0'));

/**
 * A number as text, without String() for integers: V8 keeps the string of each
 * number it converts in a cache held by the old generation, so every request
 * id's string outlived the next scavenge and was promoted (one at a time, a
 * constant 37 KB per scavenge and most of its pause). Integers below a billion
 * (request ids, which count up) are joined from groups of three digits (about
 * 15 ns, where toFixed(0) takes about 60); other safe integers use toFixed(0),
 * which gives String()'s digits and leaves the cache alone.
 */
export function numberText(n: number): string {
  if (n >= 0 && n < 1e9 && Number.isInteger(n)) {
    if (n < 1000) return DIGITS[n];
    if (n < 1e6) {
      const thousands = (n / 1000) | 0;
      return DIGITS[thousands] + DIGITS_PADDED[n - thousands * 1000];
    }
    const millions = (n / 1e6) | 0;
    const rest = n - millions * 1e6;
    const thousands = (rest / 1000) | 0;
    return DIGITS[millions] + DIGITS_PADDED[thousands] + DIGITS_PADDED[rest - thousands * 1000];
  }
  return Number.isSafeInteger(n) ? n.toFixed(0) : String(n);
}

/** A busy client sends the same uri and pid/userAgent over and over: keep their last encoding. */
let lastUri: string | null = null;
let lastUriJson = '';
let lastPid = 0;
let lastUserAgent: string | null = null;
let lastTail = '';

/**
 * A request line. The id comes first so that a server refusing an oversized
 * line can still tell the sender which request it was.
 */
export function requestLine(uri: string, data: unknown, id: RequestId | undefined, pid: number, userAgent: string, noReply: boolean): string {
  return requestLineOpen(uri, data, id, pid, userAgent) + (noReply ? ',"noReply":true}\n' : '}\n');
}

/**
 * A request line without its closing `}\n`, so more fields can be added by
 * concatenation: slicing the end off a large line instead copies it twice
 * (1 MiB request with a timeout: 11.2 -> 6.1 ms CPU to build and encode).
 */
export function requestLineOpen(uri: string, data: unknown, id: RequestId | undefined, pid: number, userAgent: string): string {
  if (uri !== lastUri) {
    lastUriJson = JSON.stringify(uri);
    lastUri = uri;
  }
  if (userAgent !== lastUserAgent || pid !== lastPid) {
    lastTail = ',"pid":' + pid + ',"userAgent":' + JSON.stringify(userAgent);
    lastUserAgent = userAgent;
    lastPid = pid;
  }
  const head = id === undefined ? '{"uri":' : '{"ipcReqID":' + encodeId(id) + ',"uri":';
  return head + lastUriJson + encodeDataField(data) + lastTail;
}

/** How much of the start of a line is searched for its id (the client puts it first). */
const SNIFF_HEAD_CHARS = 256;

/** Finds the ipcReqID near the start of a line too long to parse whole (or not to be parsed). */
export function sniffRequestId(head: Buffer | string): RequestId | null {
  // A number counts only when it is followed by `,` or `}`: one cut off by the
  // end of the head (or a prefix of 1.5 or 1e21) would name the wrong request.
  // Decoded as UTF-8 so a non-ASCII string id comes back as it was sent.
  const text = typeof head === 'string' ? head.slice(0, SNIFF_HEAD_CHARS) : head.toString('utf8');
  const match = /"ipcReqID"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?=\s*[,}]))/.exec(text);
  if (!match) return null;
  try {
    const id = JSON.parse(match[1]);
    return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
  } catch {
    return null;
  }
}

/** True when a line that is not parsed asks for no answer (`"noReply":true` at its start or its end, where clients put it). */
export function sniffNoReply(line: string): boolean {
  const pattern = /"noReply"\s*:\s*true/;
  return pattern.test(line.slice(0, SNIFF_HEAD_CHARS)) || pattern.test(line.slice(-64));
}

export function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}
