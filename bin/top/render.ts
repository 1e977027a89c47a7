/**
 * Lays a TopView out as text lines that fit a terminal of `width` x `height`:
 * the header, the endpoint table, the connection table and a key help line.
 * Plain text only (the caller adds terminal control), so it is the same in a
 * terminal, in `--once` output and in tests.
 */
import { formatBytes, formatDuration, formatMs, formatRate, printable, truncate } from '../format';
import { ConnectionRow, EndpointRow, TopView } from './model';

export interface Column<Row> {
  key: string;
  title: string;
  /** Text columns align left and give up width first when the terminal is narrow. */
  text?: boolean;
  value: (row: Row) => number | string | null;
  cell: (row: Row) => string;
}

const count = (value: number | null) => (value === null ? '-' : String(value));
const bytes = (value: number | null) => (value === null ? '-' : formatBytes(value));

export const ENDPOINT_COLUMNS: Column<EndpointRow>[] = [
  { key: 'name', title: 'ENDPOINT', text: true, value: (r) => r.name, cell: (r) => printable(r.name) },
  { key: 'rate', title: 'REQ/S', value: (r) => r.requestsPerSec, cell: (r) => formatRate(r.requestsPerSec) },
  { key: 'requests', title: 'REQUESTS', value: (r) => r.requests, cell: (r) => count(r.requests) },
  { key: 'errors', title: 'ERRORS', value: (r) => r.errors, cell: (r) => count(r.errors) },
  { key: 'p50', title: 'P50 MS', value: (r) => r.p50Ms, cell: (r) => formatMs(r.p50Ms) },
  { key: 'p99', title: 'P99 MS', value: (r) => r.p99Ms, cell: (r) => formatMs(r.p99Ms) },
];

export const CONNECTION_COLUMNS: Column<ConnectionRow>[] = [
  { key: 'id', title: 'ID', value: (r) => r.id, cell: (r) => count(r.id) },
  { key: 'transport', title: 'TRANSPORT', text: true, value: (r) => r.transport, cell: (r) => printable(r.transport) },
  { key: 'peer', title: 'PEER', text: true, value: (r) => r.peer, cell: (r) => r.peer },
  { key: 'agent', title: 'USER AGENT', text: true, value: (r) => r.userAgent, cell: (r) => printable(r.userAgent) },
  { key: 'inflight', title: 'IN FLIGHT', value: (r) => r.inFlight, cell: (r) => count(r.inFlight) },
  { key: 'rate', title: 'REQ/S', value: (r) => r.requestsPerSec, cell: (r) => formatRate(r.requestsPerSec) },
  { key: 'requests', title: 'REQUESTS', value: (r) => r.requests, cell: (r) => count(r.requests) },
  { key: 'in', title: 'BYTES IN', value: (r) => r.bytesIn, cell: (r) => bytes(r.bytesIn) },
  { key: 'out', title: 'BYTES OUT', value: (r) => r.bytesOut, cell: (r) => bytes(r.bytesOut) },
  { key: 'idle', title: 'IDLE', value: (r) => r.idleMs, cell: (r) => (r.idleMs === null ? '-' : formatDuration(r.idleMs)) },
];

/** Which column each table is sorted by, and which table the sort keys act on. */
export interface SortState {
  endpoints: { column: number; descending: boolean };
  connections: { column: number; descending: boolean };
  focus: 'endpoints' | 'connections';
}

export function defaultSortState(connectionKey = 'rate', endpointKey = 'rate'): SortState {
  return {
    endpoints: { column: Math.max(0, ENDPOINT_COLUMNS.findIndex((c) => c.key === endpointKey)), descending: !ENDPOINT_COLUMNS.find((c) => c.key === endpointKey)?.text },
    connections: { column: Math.max(0, CONNECTION_COLUMNS.findIndex((c) => c.key === connectionKey)), descending: !CONNECTION_COLUMNS.find((c) => c.key === connectionKey)?.text && connectionKey !== 'id' },
    focus: 'connections',
  };
}

/** Applies one sort key press to the sort state. */
export function applySortKey(state: SortState, key: 'next' | 'previous' | 'reverse' | 'focus'): void {
  if (key === 'focus') {
    state.focus = state.focus === 'connections' ? 'endpoints' : 'connections';
    return;
  }
  const table = state[state.focus];
  const columns = state.focus === 'endpoints' ? ENDPOINT_COLUMNS.length : CONNECTION_COLUMNS.length;
  if (key === 'reverse') {
    table.descending = !table.descending;
    return;
  }
  table.column = (table.column + (key === 'next' ? 1 : columns - 1)) % columns;
  const column = state.focus === 'endpoints' ? ENDPOINT_COLUMNS[table.column] : CONNECTION_COLUMNS[table.column];
  // Numbers read best largest first, text alphabetically.
  table.descending = !column.text && column.key !== 'transport' && column.key !== 'id';
}

/** Rows sorted by `column`; unknown values (null) always last, ties in their original order. */
export function sortRows<Row>(rows: Row[], column: Column<Row>, descending: boolean): Row[] {
  return rows
    .map((row, index) => ({ row, index, value: column.value(row) }))
    .sort((a, b) => {
      if (a.value === null || b.value === null) return a.value === b.value ? a.index - b.index : a.value === null ? 1 : -1;
      const order = typeof a.value === 'number' && typeof b.value === 'number' ? a.value - b.value : String(a.value).localeCompare(String(b.value));
      return order === 0 ? a.index - b.index : descending ? -order : order;
    })
    .map((entry) => entry.row);
}

export interface Layout {
  width: number;
  /** Lines available; Infinity prints every row (--once into a pipe). */
  height: number;
  /** What is being watched, for the title line. */
  target: string;
  /** A status message (an error, "paused", ...) for the last line. */
  status?: string;
  /** Whether to show the key help line (only when keys work). */
  keys: boolean;
}

const KEY_HELP = 'q quit  s/→ next sort column  ←  previous  r reverse  tab switch table';

/** The whole screen as lines of at most `layout.width` characters, at most `layout.height` of them. */
export function renderView(view: TopView, sort: SortState, layout: Layout): string[] {
  const width = Math.max(20, layout.width);
  const h = view.header;
  const rate = (value: number | null, unit = '') => (value === null ? '-' : formatRate(value) + unit);
  const rateBytes = (value: number | null) => (value === null ? '-' : formatBytes(Math.round(value)) + '/s');
  const heap = h.heapUsedBytes === null ? '-' : `${formatBytes(h.heapUsedBytes)}${h.heapTotalBytes === null ? '' : ' / ' + formatBytes(h.heapTotalBytes)}`;
  const header = [
    `pixl-ipc top  ${layout.target}  up ${h.uptimeMs === null ? '-' : formatDuration(h.uptimeMs)}  ${new Date(view.at).toTimeString().slice(0, 8)}`,
    `rss ${h.rssBytes === null ? '-' : formatBytes(h.rssBytes)}  heap ${heap}  cpu ${h.cpuPercent === null ? '-' : h.cpuPercent.toFixed(1) + '%'}  connections ${count(h.connections)}  in flight ${count(h.inFlight)}`,
    `requests/s ${rate(h.requestsPerSec)}  in ${rateBytes(h.bytesInPerSec)}  out ${rateBytes(h.bytesOutPerSec)}  errors/s ${rate(h.errorsPerSec)}  slow responses ${count(h.slowResponses)} (${rate(h.slowPerSec, '/s')})`,
  ];
  const footer: string[] = [];
  if (layout.status) footer.push(layout.status);
  if (layout.keys) footer.push(KEY_HELP);

  // Titles and column headers: a blank line, a title and a header per table.
  const fixed = header.length + footer.length + 6;
  const available = Math.max(2, layout.height - fixed);
  const endpointRows = view.endpoints ?? [];
  const connectionRows = view.connections ?? [];
  const [endpointLimit, connectionLimit] = shareRows(available, Math.max(1, endpointRows.length), Math.max(1, connectionRows.length));

  const lines = [...header, ''];
  const eSort = sort.endpoints;
  lines.push(title('ENDPOINTS', ENDPOINT_COLUMNS[eSort.column], eSort.descending, sort.focus === 'endpoints' && layout.keys));
  if (view.endpoints) {
    lines.push(...table(ENDPOINT_COLUMNS, sortRows(endpointRows, ENDPOINT_COLUMNS[eSort.column], eSort.descending), eSort.column, endpointLimit, width));
  } else {
    lines.push('  (not reported by this server: it has no per-endpoint figures)');
  }
  lines.push('');
  const cSort = sort.connections;
  lines.push(title('CONNECTIONS', CONNECTION_COLUMNS[cSort.column], cSort.descending, sort.focus === 'connections' && layout.keys));
  if (view.connections) {
    lines.push(...table(CONNECTION_COLUMNS, sortRows(connectionRows, CONNECTION_COLUMNS[cSort.column], cSort.descending), cSort.column, connectionLimit, width));
  } else {
    lines.push('  (not reported by this server: it does not list connections)');
  }
  // The key help sits on the bottom line, as in top(1); on a tiny terminal the tables give way first.
  const body = lines.slice(0, Math.max(0, layout.height - footer.length));
  if (Number.isFinite(layout.height)) while (body.length + footer.length < layout.height) body.push('');
  return [...body, ...footer].slice(0, layout.height).map((line) => truncate(line, width));
}

function title(name: string, column: Column<unknown> | Column<any>, descending: boolean, focused: boolean): string {
  return `${focused ? '▸ ' : ''}${name} (sorted by ${column.title.toLowerCase()} ${descending ? '▼' : '▲'})`;
}

/** How many rows each table may show: both whole if they fit, else shared, never below 1 each. */
export function shareRows(available: number, endpoints: number, connections: number): [number, number] {
  if (endpoints + connections <= available) return [endpoints, connections];
  const half = Math.floor(available / 2);
  if (endpoints <= half) return [endpoints, Math.max(1, available - endpoints)];
  if (connections <= available - half) return [Math.max(1, available - connections), connections];
  return [Math.max(1, half), Math.max(1, available - half)];
}

/**
 * A table of at most `limit` rows (the last one says how many more there are)
 * fitted to `width`: text columns shrink first, then columns are dropped from
 * the right.
 */
function table<Row>(columns: Column<Row>[], rows: Row[], sortColumn: number, limit: number, width: number): string[] {
  const shown = rows.length > limit ? rows.slice(0, Math.max(0, limit - 1)) : rows;
  const cells = shown.map((row) => columns.map((column) => column.cell(row)));
  const titles = columns.map((column, i) => column.title + (i === sortColumn ? '*' : ''));
  const widths = titles.map((t, i) => Math.max(t.length, ...cells.map((row) => row[i].length)));
  let total = widths.reduce((sum, w) => sum + w, 0) + 2 * (widths.length - 1);
  // Shrink the widest text column, down to 10 characters, until the line fits.
  while (total > width) {
    let widest = -1;
    columns.forEach((column, i) => {
      if (column.text && widths[i] > 10 && (widest < 0 || widths[i] > widths[widest])) widest = i;
    });
    if (widest < 0) break;
    const cut = Math.min(total - width, widths[widest] - 10);
    widths[widest] -= cut;
    total -= cut;
  }
  const render = (values: string[]) => values.map((value, i) => {
    const text = truncate(value, widths[i]);
    return columns[i].text ? text.padEnd(widths[i]) : text.padStart(widths[i]);
  }).join('  ').trimEnd();
  const out = [render(titles), ...cells.map(render)];
  if (rows.length > shown.length) out.push(`  … ${rows.length - shown.length} more`);
  if (rows.length === 0) out.push('  (none)');
  return out;
}
