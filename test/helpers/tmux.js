'use strict';
// A private tmux server (its own socket, so nothing touches the user's tmux)
// for driving terminal programs as a user would: start a command in a
// detached session of a given size, type keys, read the screen.
const { execFileSync, spawnSync } = require('child_process');

let counter = 0;

function shellQuote(text) {
  return "'" + text.replace(/'/g, "'\\''") + "'";
}

/** Whether tmux is installed. */
function tmuxAvailable() {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
}

class Tmux {
  constructor() {
    this.socketName = `pixl-ipc-test-${process.pid}-${++counter}`;
  }

  run(args) {
    return execFileSync('tmux', ['-L', this.socketName, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Starts `command` (a shell command line) in a detached session `name` of `width` x `height`, with `env` set. */
  start(name, command, { width = 120, height = 40, env = {} } = {}) {
    // Through env(1): tmux's own -e is not applied to the session that starts the server.
    const assignments = Object.entries(env).map(([key, value]) => `${key}=${shellQuote(String(value))}`);
    const line = assignments.length ? `env ${assignments.join(' ')} ${command}` : command;
    // The pane (and the session) go away when the program exits.
    this.run(['-f', '/dev/null', 'new-session', '-d', '-s', name, '-x', String(width), '-y', String(height), line]);
  }

  /** The visible screen of session `name`, as text. */
  capture(name) {
    return this.run(['capture-pane', '-p', '-t', name]);
  }

  /** Types `keys` (tmux key names such as Tab, Enter, C-c, or literal text). */
  sendKeys(name, ...keys) {
    this.run(['send-keys', '-t', name, ...keys]);
  }

  /** Types `text` literally (no key-name lookup). */
  type(name, text) {
    this.run(['send-keys', '-t', name, '-l', text]);
  }

  resize(name, width, height) {
    this.run(['resize-window', '-t', name, '-x', String(width), '-y', String(height)]);
  }

  /** Whether session `name` still exists (its program has not exited). */
  hasSession(name) {
    return spawnSync('tmux', ['-L', this.socketName, 'has-session', '-t', name], { stdio: 'ignore' }).status === 0;
  }

  /** The pid of the program in session `name`'s pane. */
  panePid(name) {
    return Number(this.run(['display-message', '-p', '-t', name, '#{pane_pid}']).trim());
  }

  /** Stops this tmux server and everything running in it. */
  kill() {
    spawnSync('tmux', ['-L', this.socketName, 'kill-server'], { stdio: 'ignore' });
  }
}

module.exports = { Tmux, tmuxAvailable };
