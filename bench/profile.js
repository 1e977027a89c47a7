'use strict';
// Summarizes V8 CPU profiles (.cpuprofile, from `node --cpu-prof`): self time
// per function, all code and our code (lib/, client/) separately.
const fs = require('fs');
const path = require('path');

/** Self time in ms per function, sorted, from one profile. */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const perNode = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] || 0;
    perNode.set(profile.samples[i], (perNode.get(profile.samples[i]) || 0) + delta);
  }
  const perFunction = new Map();
  let total = 0;
  for (const [id, micros] of perNode) {
    const frame = byId.get(id).callFrame;
    const key = `${frame.functionName || '(anonymous)'}\t${frame.url}\t${frame.lineNumber + 1}`;
    perFunction.set(key, (perFunction.get(key) || 0) + micros);
    total += micros;
  }
  const rows = [...perFunction].map(([key, micros]) => {
    const [name, url, line] = key.split('\t');
    return { name, url, line: Number(line), ms: micros / 1000 };
  });
  rows.sort((a, b) => b.ms - a.ms);
  return { rows, totalMs: total / 1000 };
}

function where(row, root) {
  if (!row.url) return '';
  const file = row.url.replace(/^file:\/\//, '');
  return (file.startsWith(root) ? path.relative(root, file) : file) + ':' + row.line;
}

/** Is this frame in the package's own code (not node_modules, not Node)? */
function isOurs(row, root) {
  const file = row.url.replace(/^file:\/\//, '');
  return file.startsWith(root) && !file.includes('node_modules') && /\/(lib|client)\//.test(file);
}

/** A markdown summary of every profile in `dir`; paths shown relative to `root`. */
function summarizeProfiles(dir, root, top = 20) {
  const out = ['## CPU profiles of our server', ''];
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort() : [];
  if (!files.length) return out.concat('No profiles were written (the profiled servers did not exit cleanly?).').join('\n');
  for (const file of files) {
    const { rows, totalMs } = selfTimes(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
    const busy = rows.filter((r) => r.name !== '(idle)');
    const busyMs = busy.reduce((sum, r) => sum + r.ms, 0);
    const oursMs = busy.filter((r) => isOurs(r, root)).reduce((sum, r) => sum + r.ms, 0);
    out.push(`### ${file} (${path.join(dir, file)})`);
    out.push(`sampled ${totalMs.toFixed(0)} ms, busy ${busyMs.toFixed(0)} ms, in our code (self) ${oursMs.toFixed(0)} ms`);
    out.push('');
    const list = (title, selected) => {
      out.push(`${title}:`, '', '| self ms | % of busy | function | where |', '| ---: | ---: | --- | --- |');
      for (const r of selected.slice(0, top)) out.push(`| ${r.ms.toFixed(1)} | ${((100 * r.ms) / busyMs).toFixed(1)} | ${r.name} | ${where(r, root)} |`);
      out.push('');
    };
    list('Top self time, everything', busy);
    list('Top self time, our code', busy.filter((r) => isOurs(r, root)));
  }
  return out.join('\n');
}

module.exports = { selfTimes, summarizeProfiles };

if (require.main === module) {
  const dir = process.argv[2] || path.join(__dirname, 'results', 'profiles');
  console.log(summarizeProfiles(dir, path.join(__dirname, '..')));
}
