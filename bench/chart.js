'use strict';
// Line charts of the cost curves, twice: as text (for the markdown report and
// a terminal) and as a standalone SVG file. Series share the axes, so ours and
// the raw baseline can be compared by eye. Axes can be logarithmic.
//
// series: [{ name, symbol, color, points: [{ x, y }] }]
// options: { title, xLabel, yLabel, xLog, yLog, xFormat(x), yFormat(y) }

function scale(min, max, log) {
  const f = log ? Math.log10 : (v) => v;
  let lo = f(min);
  let hi = f(max);
  if (hi === lo) {
    hi += log ? 0.5 : Math.abs(hi) * 0.1 || 1;
    lo -= log ? 0.5 : Math.abs(lo) * 0.1 || 1;
  }
  return (v) => (f(v) - lo) / (hi - lo);
}

function bounds(series, key, log) {
  const values = series.flatMap((s) => s.points.map((p) => p[key])).filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (!values.length) return null;
  let min = Math.min(...values);
  const max = Math.max(...values);
  // Linear y axes start at zero, so heights compare honestly.
  if (!log && key === 'y' && min > 0) min = 0;
  return [min, max];
}

const plain = (v) => String(Number.isInteger(v) ? v : Number(v.toPrecision(3)));

/** A text chart: `width` × `height` cells of plot, y labels at the left, legend below. */
function asciiChart(series, options = {}, width = 60, height = 14) {
  const xb = bounds(series, 'x', options.xLog);
  const yb = bounds(series, 'y', options.yLog);
  if (!xb || !yb) return '(no data)';
  const fx = scale(xb[0], xb[1], options.xLog);
  const fy = scale(yb[0], yb[1], options.yLog);
  const xFormat = options.xFormat || plain;
  const yFormat = options.yFormat || plain;
  const grid = Array.from({ length: height }, () => Array(width).fill(' '));
  const col = (x) => Math.round(fx(x) * (width - 1));
  const row = (y) => height - 1 - Math.round(fy(y) * (height - 1));
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p.y) && (!options.yLog || p.y > 0));
    // Dots between points first, markers on top.
    for (let i = 1; i < pts.length; i++) {
      const [c0, r0, c1, r1] = [col(pts[i - 1].x), row(pts[i - 1].y), col(pts[i].x), row(pts[i].y)];
      const steps = Math.max(Math.abs(c1 - c0), Math.abs(r1 - r0));
      for (let k = 1; k < steps; k++) {
        const c = Math.round(c0 + ((c1 - c0) * k) / steps);
        const r = Math.round(r0 + ((r1 - r0) * k) / steps);
        if (grid[r][c] === ' ') grid[r][c] = '·';
      }
    }
    for (const p of pts) {
      const cell = grid[row(p.y)][col(p.x)];
      grid[row(p.y)][col(p.x)] = cell !== ' ' && cell !== '·' && cell !== s.symbol ? '*' : s.symbol;
    }
  }
  const yLabels = grid.map((_, r) => {
    if (r !== 0 && r !== height - 1 && r !== Math.floor((height - 1) / 2)) return '';
    const t = (height - 1 - r) / (height - 1);
    const v = options.yLog ? 10 ** (Math.log10(yb[0]) + t * (Math.log10(yb[1]) - Math.log10(yb[0]))) : yb[0] + t * (yb[1] - yb[0]);
    return yFormat(v);
  });
  const pad = Math.max(...yLabels.map((l) => l.length));
  const lines = [];
  if (options.title) lines.push(options.title);
  if (options.yLabel) lines.push(`${' '.repeat(pad)}  ${options.yLabel}${options.yLog ? ' (log scale)' : ''}`);
  grid.forEach((cells, r) => lines.push(`${yLabels[r].padStart(pad)} ┤${cells.join('')}`));
  lines.push(`${' '.repeat(pad)} └${'─'.repeat(width)}`);
  // x labels at each distinct x of the first series, where they fit.
  const ticks = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const axis = Array(width + 12).fill(' ');
  let free = 0;
  for (const x of ticks) {
    const text = xFormat(x);
    const at = Math.max(free, Math.min(width + 12 - text.length, col(x) - Math.floor(text.length / 2)));
    if (at < free) continue;
    for (let i = 0; i < text.length; i++) axis[at + i] = text[i];
    free = at + text.length + 1;
  }
  lines.push(`${' '.repeat(pad + 2)}${axis.join('').trimEnd()}`);
  if (options.xLabel) lines.push(`${' '.repeat(pad + 2)}${options.xLabel}${options.xLog ? ' (log scale)' : ''}`);
  lines.push(`${' '.repeat(pad + 2)}${series.map((s) => `${s.symbol} ${s.name}`).join('   ')}`);
  return lines.join('\n');
}

const escapeXml = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The same chart as an SVG document. */
function svgChart(series, options = {}) {
  const W = 720;
  const H = 400;
  const m = { left: 80, right: 20, top: 40, bottom: 80 };
  const xb = bounds(series, 'x', options.xLog);
  const yb = bounds(series, 'y', options.yLog);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`];
  if (options.title) out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);
  if (!xb || !yb) return out.concat('<text x="20" y="60">no data</text>', '</svg>').join('\n');
  const fx = scale(xb[0], xb[1], options.xLog);
  const fy = scale(yb[0], yb[1], options.yLog);
  const px = (x) => m.left + fx(x) * (W - m.left - m.right);
  const py = (y) => H - m.bottom - fy(y) * (H - m.top - m.bottom);
  const xFormat = options.xFormat || plain;
  const yFormat = options.yFormat || plain;
  const xTicks = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const yTicks = options.yLog
    ? Array.from({ length: Math.floor(Math.log10(yb[1])) - Math.ceil(Math.log10(yb[0])) + 1 }, (_, i) => 10 ** (Math.ceil(Math.log10(yb[0])) + i))
    : Array.from({ length: 5 }, (_, i) => yb[0] + ((yb[1] - yb[0]) * i) / 4);
  for (const y of yTicks) {
    out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${escapeXml(yFormat(y))}</text>`);
  }
  for (const x of xTicks) {
    out.push(`<line y1="${m.top}" y2="${H - m.bottom}" x1="${px(x).toFixed(1)}" x2="${px(x).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${px(x).toFixed(1)}" y="${H - m.bottom + 16}" text-anchor="middle">${escapeXml(xFormat(x))}</text>`);
  }
  out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${H - m.bottom}" y2="${H - m.bottom}" stroke="black"/>`);
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${H - m.bottom}" stroke="black"/>`);
  if (options.xLabel) out.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - m.bottom + 36}" text-anchor="middle">${escapeXml(options.xLabel + (options.xLog ? ' (log scale)' : ''))}</text>`);
  if (options.yLabel) out.push(`<text transform="translate(16 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel + (options.yLog ? ' (log scale)' : ''))}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p.y) && (!options.yLog || p.y > 0));
    const color = s.color || ['#444', '#d62728', '#1f77b4', '#2ca02c', '#9467bd'][i % 5];
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${color}"><title>${escapeXml(`${s.name}: ${xFormat(p.x)} → ${yFormat(p.y)}`)}</title></circle>`);
    const lx = m.left + i * 170;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${H - 18}" y2="${H - 18}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 30}" y="${H - 14}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

module.exports = { asciiChart, svgChart };
