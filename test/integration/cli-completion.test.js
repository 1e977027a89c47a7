'use strict';
// `pixl-ipc completion bash|zsh`: the scripts parse, complete commands,
// options, option choices and file paths in bash's completion function, and
// work in real interactive bash and zsh shells driven through tmux.
const assert = require('assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { CLI, runCli } = require('../helpers/cli');
const { Tmux, tmuxAvailable } = require('../helpers/tmux');
const { waitFor } = require('../helpers/wait');

/** A directory with a `pixl-ipc` executable that runs the built command, for PATH. */
function binDir() {
  const dir = makeTempDir('pixl-ipc-bin-');
  const wrapper = path.join(dir, 'pixl-ipc');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
  return dir;
}

function hasShell(name) {
  return spawnSync(name, ['-c', 'exit 0'], { stdio: 'ignore' }).status === 0;
}

describe('pixl-ipc completion', function () {
  this.timeout(30000);
  let bin;
  before(() => { bin = binDir(); });
  after(() => cleanupTempDirs());

  it('prints scripts that bash and zsh parse', async () => {
    const [bash, zsh] = await Promise.all([runCli(['completion', 'bash']), runCli(['completion', 'zsh'])]);
    assert.strictEqual(bash.code, 0, bash.stderr);
    assert.strictEqual(zsh.code, 0, zsh.stderr);
    assert.ok(bash.stdout.includes('complete -F _pixl_ipc pixl-ipc'), bash.stdout);
    assert.ok(zsh.stdout.startsWith('#compdef pixl-ipc\n'), zsh.stdout);
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, 'c.bash'), bash.stdout);
    fs.writeFileSync(path.join(dir, '_pixl-ipc'), zsh.stdout);
    const bashCheck = spawnSync('bash', ['-n', path.join(dir, 'c.bash')], { encoding: 'utf8' });
    assert.strictEqual(bashCheck.status, 0, bashCheck.stderr);
    if (hasShell('zsh')) {
      const zshCheck = spawnSync('zsh', ['-n', path.join(dir, '_pixl-ipc')], { encoding: 'utf8' });
      assert.strictEqual(zshCheck.status, 0, zshCheck.stderr);
    }
  });

  it('bash: completes commands, options, option choices, command arguments and paths', function () {
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, 'handlers-one.js'), '');
    fs.writeFileSync(path.join(dir, 'handlers-two.js'), '');
    const script = `
source <(pixl-ipc completion bash)
words() { COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _pixl_ipc; printf '%s ' $(printf '%s\\n' "\${COMPREPLY[@]}" | sort); echo; }
complete -p pixl-ipc
words pixl-ipc st
words pixl-ipc ''
words pixl-ipc top --sor
words pixl-ipc top --sort ''
words pixl-ipc completion ''
words pixl-ipc serve --handlers ${dir}/handlers-
words pixl-ipc send --timeout ''
words pixl-ipc bench -c ''
words pixl-ipc help mon
`;
    const result = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    assert.strictEqual(result.status, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.strictEqual(lines[0], 'complete -F _pixl_ipc pixl-ipc');
    assert.strictEqual(lines[1], 'stats ');
    for (const name of ['serve', 'send', 'stats', 'handlers', 'connections', 'monitor', 'ping', 'top', 'bench', 'completion', 'help']) {
      assert.ok(lines[2].split(' ').includes(name), `${name} missing from ${lines[2]}`);
    }
    assert.strictEqual(lines[3], '--sort --sort-endpoints ');
    assert.strictEqual(lines[4], 'agent id idle in inflight out peer rate requests transport ');
    assert.strictEqual(lines[5], 'bash zsh ');
    assert.strictEqual(lines[6], `${dir}/handlers-one.js ${dir}/handlers-two.js `);
    assert.strictEqual(lines[7], ' ', 'no guesses for a number');
    assert.strictEqual(lines[8], ' ', 'bench -c is --concurrency (a number), not serve\'s --config');
    assert.strictEqual(lines[9], 'monitor ');
  });

  describe('in interactive shells (tmux)', function () {
    let tmux;
    before(function () {
      if (!tmuxAvailable()) {
        console.log('      (skipped: tmux is not installed; .ci/run installs it)');
        this.skip();
      }
      tmux = new Tmux();
    });
    after(() => tmux && tmux.kill());

    /** Runs `command` at the shell's prompt and waits until it has finished. */
    async function runSetup(session, command) {
      tmux.type(session, `${command}; echo SETUP-DONE`);
      tmux.sendKeys(session, 'Enter');
      let screen = '';
      await waitFor(() => /^SETUP-DONE$/m.test(screen = tmux.capture(session)), `the shell set up; screen:\n${screen}`, 15000, 50);
    }

    /** Types `line` then Tab at a shell prompt; resolves to the screen once it shows `expected`. */
    async function tabComplete(session, line, expected) {
      // A fresh, empty prompt first (C-c), so the typed line is not echoed into a half-drawn one.
      tmux.sendKeys(session, 'C-c');
      let screen = '';
      await waitFor(() => /^[$%]$/.test((screen = tmux.capture(session)).trimEnd().split('\n').pop()), `an empty prompt; screen:\n${screen}`, 10000, 50);
      tmux.type(session, line);
      tmux.sendKeys(session, 'Tab');
      await waitFor(() => expected.test(screen = tmux.capture(session)), `${expected} after "${line}" + Tab; screen:\n${screen}`, 10000, 50)
        .catch((err) => { throw new Error(err.message + '\n' + screen); });
      return screen;
    }

    it('bash: source <(pixl-ipc completion bash) completes as the user types', async () => {
      const home = makeTempDir();
      tmux.start('bash', 'bash --norc --noprofile -i', { width: 100, height: 20, env: { PATH: `${bin}:${process.env.PATH}`, HOME: home, PS1: '$ ' } });
      await runSetup('bash', 'source <(pixl-ipc completion bash)');
      await tabComplete('bash', 'pixl-ipc mon', /\$ pixl-ipc monitor\s*$/m);
      await tabComplete('bash', 'pixl-ipc top --sort-e', /\$ pixl-ipc top --sort-endpoints\s*$/m);
    });

    it('zsh: the script installed in $fpath as _pixl-ipc completes as the user types', async function () {
      if (!hasShell('zsh')) {
        console.log('      (skipped: zsh is not installed; .ci/run installs it)');
        this.skip();
      }
      const home = makeTempDir();
      const functions = makeTempDir();
      const script = await runCli(['completion', 'zsh']);
      fs.writeFileSync(path.join(functions, '_pixl-ipc'), script.stdout);
      tmux.start('zsh', 'zsh -f', { width: 100, height: 20, env: { PATH: `${bin}:${process.env.PATH}`, HOME: home } });
      await runSetup('zsh', `PS1='%% '; fpath=(${functions} $fpath); autoload -U compinit; compinit -u`);
      await tabComplete('zsh', 'pixl-ipc conn', /% pixl-ipc connections\s*$/m);
      await tabComplete('zsh', 'pixl-ipc serve --hand', /% pixl-ipc serve --handlers\s*$/m);
      await tabComplete('zsh', 'pixl-ipc completion z', /% pixl-ipc completion zsh\s*$/m);
    });
  });
});
