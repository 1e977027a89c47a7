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

  it('is valid and has the version of package.json', function () {
    const manifest = JSON.parse(fs.readFileSync(path.join(PHP_CLIENT, 'composer.json'), 'utf8'));
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    assert.strictEqual(manifest.version, pkg.version);
    const home = makeTempDir('pixl-ipc-composer-home-');
    execFileSync('composer', ['validate', '--no-check-publish', path.join(PHP_CLIENT, 'composer.json')], { env: composerEnv(home), stdio: 'pipe' });
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
        "echo json_encode($ipc->send('/ipcserver/test/echo', ['from' => 'composer'])), \"\\n\";",
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
