'use strict';
// The PHP client installed the way a PHP project would: `composer require` from a
// path repository, no stability flags, no network, then used through Composer's autoloader.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { execFileSync, execFile } = require('child_process');
const { promisify } = require('util');
const { startServer, makeTempDir, cleanupTempDirs } = require('../helpers/harness');

const ROOT = path.join(__dirname, '..', '..');
const PHP_CLIENT = path.join(ROOT, 'php-client');

function hasComposer() {
  try {
    execFileSync('composer', ['--version'], { stdio: 'ignore', env: composerEnv(makeTempDir('pixl-ipc-composer-home-')) });
    return true;
  } catch {
    return false;
  }
}

function composerEnv(home) {
  return Object.assign({}, process.env, {
    COMPOSER_HOME: home,
    COMPOSER_CACHE_DIR: path.join(home, 'cache'),
    COMPOSER_ALLOW_SUPERUSER: '1',
    COMPOSER_DISABLE_NETWORK: '1',
    COMPOSER_NO_INTERACTION: '1',
  });
}

describe('Composer package (php-client/composer.json)', function () {
  this.timeout(60000);

  before(function () {
    // .ci/run installs Debian's composer; elsewhere say why nothing ran.
    if (!hasComposer()) {
      console.log('    (composer is not installed: `apt-get install composer` runs these tests)');
      this.skip();
    }
  });

  after(() => cleanupTempDirs());

  it('is valid and has the version of package.json; the root composer.json (for VCS installs) describes the same package', function () {
    const manifest = JSON.parse(fs.readFileSync(path.join(PHP_CLIENT, 'composer.json'), 'utf8'));
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    assert.strictEqual(manifest.version, pkg.version);
    const home = makeTempDir('pixl-ipc-composer-home-');
    execFileSync('composer', ['validate', '--no-check-publish', path.join(PHP_CLIENT, 'composer.json')], { env: composerEnv(home), stdio: 'pipe' });
    execFileSync('composer', ['validate', '--no-check-publish', path.join(ROOT, 'composer.json')], { env: composerEnv(home), stdio: 'pipe' });
    const rootManifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'composer.json'), 'utf8'));
    assert.strictEqual(rootManifest.name, manifest.name);
    assert.deepStrictEqual(rootManifest.require, manifest.require);
    assert.deepStrictEqual(rootManifest.autoload.classmap, manifest.autoload.classmap.map((f) => `php-client/${f}`));
  });

  it('installs stable from a VCS repository (the repository root) at a release tag', async function () {
    // A git repository holding this checkout's root composer.json and php-client/, tagged
    // as a release would be; the project's composer.json names it as a "vcs" repository.
    const home = makeTempDir('pixl-ipc-composer-home-');
    const repo = makeTempDir('pixl-ipc-composer-vcs-');
    fs.copyFileSync(path.join(ROOT, 'composer.json'), path.join(repo, 'composer.json'));
    fs.mkdirSync(path.join(repo, 'php-client'));
    for (const file of fs.readdirSync(PHP_CLIENT)) fs.copyFileSync(path.join(PHP_CLIENT, file), path.join(repo, 'php-client', file));
    const git = (...args) => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd: repo, stdio: 'pipe' });
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'release');
    const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
    git('tag', `v${version}`);

    const project = makeTempDir('pixl-ipc-composer-project-');
    fs.writeFileSync(path.join(project, 'composer.json'), JSON.stringify({
      repositories: [{ type: 'vcs', url: repo }, { 'packagist.org': false }],
    }));
    // Local git only; COMPOSER_DISABLE_NETWORK would refuse git as well.
    const env = Object.assign(composerEnv(home), { COMPOSER_DISABLE_NETWORK: '' });
    execFileSync('composer', ['require', 'pixl-ipc/php-client'], { cwd: project, env, stdio: 'pipe' });
    const lock = JSON.parse(fs.readFileSync(path.join(project, 'composer.lock'), 'utf8'));
    assert.strictEqual(lock.packages.find((p) => p.name === 'pixl-ipc/php-client').version, `v${version}`);
    const out = execFileSync('php', ['-r', "require 'vendor/autoload.php'; echo class_exists('PixlIPCClient') ? 'found' : 'missing';"], { cwd: project, encoding: 'utf8' });
    assert.strictEqual(out, 'found');
  });

  it('installs with `composer require` from a path repository without stability flags, and its autoloader finds the client', async function () {
    const home = makeTempDir('pixl-ipc-composer-home-');
    const project = makeTempDir('pixl-ipc-composer-project-');
    fs.writeFileSync(path.join(project, 'composer.json'), JSON.stringify({
      name: 'example/web-app',
      require: {},
      repositories: [
        { type: 'path', url: PHP_CLIENT, options: { symlink: false } },
        { 'packagist.org': false },
      ],
    }, null, 2));
    const env = composerEnv(home);
    execFileSync('composer', ['require', 'pixl-ipc/php-client'], { cwd: project, env, stdio: 'pipe' });
    const lock = JSON.parse(fs.readFileSync(path.join(project, 'composer.lock'), 'utf8'));
    const installed = lock.packages.find((p) => p.name === 'pixl-ipc/php-client');
    assert.ok(installed, 'in composer.lock');
    assert.match(installed.version, /^\d+\.\d+\.\d+$/, 'a stable version');
    const required = JSON.parse(fs.readFileSync(path.join(project, 'composer.json'), 'utf8')).require['pixl-ipc/php-client'];
    assert.match(required, /^\^\d/, 'composer wrote a caret constraint, not @dev');

    const server = await startServer();
    try {
      fs.writeFileSync(path.join(project, 'page.php'), [
        '<?php',
        "require __DIR__ . '/vendor/autoload.php';",
        "$ipc = new PixlIPCClient(getenv('IPC_SOCKET'), ['persistent' => true]);",
        "echo json_encode($ipc->call('/ipcserver/test/echo', ['from' => 'composer'])), \"\\n\";",
        "echo PixlIPCException::class, \"\\n\";",
      ].join('\n'));
      // Asynchronous: the server answering it runs in this process.
      const { stdout } = await promisify(execFile)('php', ['page.php'], { cwd: project, env: Object.assign({}, process.env, { IPC_SOCKET: server.socketPath }) });
      assert.strictEqual(stdout, '{"from":"composer"}\nPixlIPCException\n');
    } finally {
      await server.stop();
    }
  });
});
