'use strict';
// The raw baseline's framing: the thinnest reasonable newline splitter in plain
// Node. The socket decodes UTF-8 itself (setEncoding), each chunk is scanned
// once, and a line split across chunks is joined only when its end arrives.

/** Calls `onLine(line)` for every complete non-empty line of the socket's stream. */
function onLines(socket, onLine) {
  socket.setEncoding('utf8');
  let parts = [];
  socket.on('data', (chunk) => {
    let start = 0;
    let newline = chunk.indexOf('\n');
    while (newline !== -1) {
      let line = chunk.slice(start, newline);
      if (parts.length) {
        parts.push(line);
        line = parts.join('');
        parts = [];
      }
      if (line.length) onLine(line);
      start = newline + 1;
      newline = chunk.indexOf('\n', start);
    }
    if (start < chunk.length) parts.push(start === 0 ? chunk : chunk.slice(start));
  });
}

module.exports = { onLines };
