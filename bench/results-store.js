'use strict';
// Where a run's results go. Every run writes bench/results/runs/<stamp>/
// (report.md, results.json, charts/*.svg; ignored by git) and points
// bench/results/runs/latest at it. Only `--save` also replaces the committed
// results: bench/results/latest.md, latest.json and charts/.
const fs = require('fs');
const path = require('path');

const RESULTS_DIR = path.join(__dirname, 'results');
const RUNS_DIR = path.join(RESULTS_DIR, 'runs');

/** "2026-11-30T02-41-07Z": a timestamp safe in file names. */
function stampOf(date) {
  return date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
}

/** A new, empty directory for one run (or one profile) under bench/results/runs/. */
function newRunDir(stamp, suffix = '') {
  let dir = path.join(RUNS_DIR, stamp + suffix);
  for (let i = 2; fs.existsSync(dir); i++) dir = path.join(RUNS_DIR, `${stamp}${suffix}-${i}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Point bench/results/runs/latest at `dir` (a relative symlink; a text file where links are not allowed). */
function markLatest(dir, name = 'latest') {
  const link = path.join(RUNS_DIR, name);
  fs.rmSync(link, { force: true, recursive: true });
  try {
    fs.symlinkSync(path.basename(dir), link);
  } catch {
    fs.writeFileSync(link, path.basename(dir) + '\n');
  }
}

function writeReport(dir, { markdown, charts, json }, names = { markdown: 'report.md', json: 'results.json' }) {
  fs.writeFileSync(path.join(dir, names.markdown), markdown);
  fs.writeFileSync(path.join(dir, names.json), JSON.stringify(json, null, 2) + '\n');
  const chartDir = path.join(dir, 'charts');
  fs.rmSync(chartDir, { recursive: true, force: true });
  if (Object.keys(charts).length) fs.mkdirSync(chartDir, { recursive: true });
  for (const [name, svg] of Object.entries(charts)) fs.writeFileSync(path.join(chartDir, name), svg + '\n');
}

const PERFORMANCE_PAGE = path.join(__dirname, '..', 'docs', 'performance.md');
const README = path.join(__dirname, '..', 'README.md');

/** Replaces what `file` holds between its `<!-- NAME:start -->` and `<!-- NAME:end -->` markers; false when it has none. */
function replaceBetweenMarkers(file, name, text) {
  const page = fs.readFileSync(file, 'utf8');
  const startMarker = `<!-- ${name}:start -->`;
  const start = page.indexOf(startMarker);
  const end = page.indexOf(`<!-- ${name}:end -->`);
  if (start === -1 || end < start) return false;
  fs.writeFileSync(file, page.slice(0, start + startMarker.length) + '\n' + text.trimEnd() + '\n' + page.slice(end));
  return true;
}

/**
 * Writes a run; returns the paths written (relative to the repository).
 * `save` also replaces the committed bench/results/latest.{md,json} and charts/,
 * the summary in docs/performance.md (`report.readme`) and the brief in
 * README.md's performance section (`report.brief`).
 */
function storeRun(stamp, report, { save = false } = {}) {
  const dir = newRunDir(stamp);
  writeReport(dir, report);
  markLatest(dir);
  const root = path.join(__dirname, '..');
  const written = [path.relative(root, dir) + '/'];
  if (save) {
    writeReport(RESULTS_DIR, report, { markdown: 'latest.md', json: 'latest.json' });
    written.push('bench/results/latest.md', 'bench/results/latest.json', 'bench/results/charts/');
    if (report.readme && replaceBetweenMarkers(PERFORMANCE_PAGE, 'bench-table', report.readme)) written.push('docs/performance.md (between its bench-table markers)');
    if (report.brief && replaceBetweenMarkers(README, 'bench-readme', report.brief)) written.push('README.md (between its bench-readme markers)');
  }
  return written;
}

module.exports = { RESULTS_DIR, RUNS_DIR, stampOf, newRunDir, markLatest, storeRun };
