'use strict';
// A private tmux server (its own socket, so nothing touches the user's tmux)
// for driving terminal programs as a user would: start a command in a
// detached session of a given size, type keys, read the screen.
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

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
    // A socket in a directory of our own (not tmux's shared one), removed by kill().
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-tmux-'));
    this.socketPath = path.join(this.dir, `s${++counter}`);
  }

  run(args) {
    return execFileSync('tmux', ['-S', this.socketPath, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
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
    return spawnSync('tmux', ['-S', this.socketPath, 'has-session', '-t', name], { stdio: 'ignore' }).status === 0;
  }

  /** The pid of the program in session `name`'s pane. */
  panePid(name) {
    return Number(this.run(['display-message', '-p', '-t', name, '#{pane_pid}']).trim());
  }

  /** Stops this tmux server and everything running in it. */
  kill() {
    spawnSync('tmux', ['-S', this.socketPath, 'kill-server'], { stdio: 'ignore' });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { Tmux, tmuxAvailable };
