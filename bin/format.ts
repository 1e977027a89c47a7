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
