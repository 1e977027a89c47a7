'use strict';
// Links between the Markdown pages: every relative link names a file that
// exists, and every #anchor a heading of that file (as GitHub slugs them).
const fs = require('fs');
const path = require('path');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading) {
  return heading.trim().toLowerCase().replace(/`/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** The anchors of a Markdown text's headings (outside code blocks), with -1, -2 for repeats. */
function anchors(markdown) {
  const seen = new Map();
  const found = new Set();
  let fence = null;
  for (const line of markdown.split('\n')) {
    const open = /^\s*(```+|~~~+)/.exec(line);
    if (open) {
      if (fence === null) fence = open[1];
      else if (line.trim().startsWith(fence)) fence = null;
      continue;
    }
    if (fence !== null) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]);
    const count = seen.get(base) || 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

/** Relative links of a Markdown text, outside code blocks: [{ target, line }]. */
function links(markdown) {
  const result = [];
  let fence = null;
  markdown.split('\n').forEach((line, index) => {
    const open = /^\s*(```+|~~~+)/.exec(line);
    if (open) {
      if (fence === null) fence = open[1];
      else if (line.trim().startsWith(fence)) fence = null;
      return;
    }
    if (fence !== null) return;
    for (const [, target] of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!/^[a-z]+:/i.test(target)) result.push({ target, line: index + 1 });
    }
  });
  return result;
}

/** "file:line: target (why)" for every link of `files` (repo-relative) that leads nowhere. */
function brokenLinks(root, files) {
  const broken = [];
  const cache = new Map();
  const anchorsOf = (file) => {
    if (!cache.has(file)) cache.set(file, anchors(fs.readFileSync(file, 'utf8')));
    return cache.get(file);
  };
  for (const file of files) {
    const absolute = path.join(root, file);
    for (const { target, line } of links(fs.readFileSync(absolute, 'utf8'))) {
      const [filePart, anchor] = target.split('#');
      const destination = filePart === '' ? absolute : path.resolve(path.dirname(absolute), filePart);
      if (!fs.existsSync(destination)) { broken.push(`${file}:${line}: ${target} (no such file)`); continue; }
      if (anchor !== undefined && destination.endsWith('.md') && !anchorsOf(destination).has(anchor)) {
        broken.push(`${file}:${line}: ${target} (no such heading)`);
      }
    }
  }
  return broken;
}

/** Every Markdown page users read: README.md, PROTOCOL.md, CHANGELOG.md and docs/*.md (repo-relative). */
function userPages(root) {
  const docs = fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`);
  return ['README.md', 'PROTOCOL.md', 'CHANGELOG.md', ...docs];
}

module.exports = { anchors, links, brokenLinks, userPages, slug };
