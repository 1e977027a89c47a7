'use strict';
// Reads the fenced code blocks of a Markdown file, with the marker comment
// that may precede each one (see the rules in test/integration/docs.test.js).

/**
 * [{ file, line, lang, marker, markerArg, code }] for every fenced block.
 * `marker` is the word of an HTML comment (`<!-- word: arg -->`) on the last
 * non-blank line before the fence, or null.
 */
function codeBlocks(markdown, file) {
  const lines = markdown.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+|~~~+)\s*([\w+-]*)/.exec(lines[i]);
    if (!open) continue;
    const fence = open[2];
    const indent = open[1].length;
    let end = i + 1;
    while (end < lines.length && !lines[end].trim().startsWith(fence)) end++;
    const code = lines.slice(i + 1, end).map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length))).join('\n') + '\n';
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const comment = before >= 0 ? /^<!--\s*([\w-]+)\s*(?::\s*(.*?))?\s*-->$/.exec(lines[before].trim()) : null;
    blocks.push({
      file,
      line: i + 1,
      lang: open[3].toLowerCase(),
      marker: comment ? comment[1] : null,
      markerArg: comment && comment[2] !== undefined ? comment[2] : null,
      code,
    });
    i = end;
  }
  return blocks;
}

module.exports = { codeBlocks };
