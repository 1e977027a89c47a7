/**
 * Number formatting shared by the commands' human-readable output.
 */

/** 93784000 -> "1d 2h 3m 4s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return String(ms);
  let seconds = Math.floor(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size || parts.length) {
      parts.push(Math.floor(seconds / size) + unit);
      seconds %= size;
    }
  }
  parts.push(seconds + 's');
  return parts.join(' ');
}

/** 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Right-aligned columns under a header, two spaces apart. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i].length)));
  const render = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i])).join('  ');
  return [render(headers), ...rows.map(render)].join('\n') + '\n';
}

/**
 * Text a client chose (user agents, uris, handler names) made safe for a
 * terminal: control characters (escape sequences, newlines, bidi overrides)
 * become visible \u escapes instead of being interpreted.
 */
export function printable(value: unknown): string {
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Cuts `text` to `width` characters, marking the cut with "…". */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length <= width ? text : text.slice(0, Math.max(0, width - 1)) + '…';
}

/** Milliseconds with a precision that suits their size: 0.042, 3.21, 45.6, 1234. */
export function formatMs(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  if (ms >= 1000) return String(Math.round(ms));
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** A per-second rate: 0, 0.5, 12.3, 4567. */
export function formatRate(perSecond: unknown): string {
  if (typeof perSecond !== 'number' || !Number.isFinite(perSecond)) return '-';
  if (perSecond === 0) return '0';
  if (perSecond >= 100) return String(Math.round(perSecond));
  return perSecond.toFixed(1);
}

/** A count, or "-" when the server did not report it. */
export function formatCount(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : '-';
}

/** Columns two spaces apart; `left` marks the columns aligned left (text), the rest align right (numbers). */
export function renderAlignedTable(headers: string[], rows: string[][], left: ReadonlySet<number> = new Set()): string[] {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i].length)));
  const render = (cells: string[]) => cells.map((cell, i) => (left.has(i) ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  return [render(headers), ...rows.map(render)];
}
