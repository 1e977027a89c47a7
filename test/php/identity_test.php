<?php
// expectServerUid (run by test/integration/php-identity.test.js as root, with an
// impostor listening as another local user): nothing, credentials included,
// reaches a socket served by anyone but the expected uid.
require_once __DIR__ . '/TestRunner.php';

$t = new TestRunner();
$otherUid = (int)env('IPC_OTHER_UID');

function refused($target, array $options)
{
    $ipc = new PixlIPCClient($target, $options + array('requestTimeout' => 300));
    $e = expectIPCException(PixlIPCClient::E_SERVER_IDENTITY, function () use ($ipc) {
        $ipc->call('/billing/charge', array('amount' => 'for the real daemon only'));
    });
    assertSame(false, $ipc->isConnected(), 'not connected');
    return $e;
}

$t->test('an impostor of another uid gets nothing: E_SERVER_IDENTITY with the shared hint', function () use ($otherUid) {
    $path = env('IPC_IMPOSTOR_SOCKET');
    foreach (array(false, true) as $persistent) {
        $e = refused($path, array('expectServerUid' => 0, 'auth' => array('token' => 'secret-token'), 'persistent' => $persistent));
        $name = posix_getpwuid($otherUid)['name'];
        assertSame("$path is served by uid $otherUid ($name), not the expected uid 0 (root); nothing was sent", $e->getMessage());
    }
});

$t->test('on the default socket this user is expected without the option: an impostor there gets nothing', function () use ($otherUid) {
    $path = env('IPC_DEFAULT_SOCKET');
    assertSame($path, PixlIPCServerIdentity::defaultSocketPath(), 'the default socket');
    $e = refused($path, array('auth' => array('token' => 'secret-token')));
    assertContains("served by uid $otherUid", $e->getMessage());
    // Given explicitly, null turns the check off (the control below shows what it prevents).
});

$t->test('the real daemon (uid 0) is served with expectServerUid 0, also persistent and reused', function () {
    foreach (array(false, true, true) as $persistent) {
        $ipc = new PixlIPCClient(env('IPC_SOCKET'), array('expectServerUid' => 0, 'persistent' => $persistent));
        assertSame(array('ok' => 1), $ipc->call('/ipcserver/test/echo', array('ok' => 1)));
        $ipc = null;
    }
});

$t->test('a symlink at the path, even to the real socket, is refused', function () {
    $e = refused(env('IPC_SYMLINK_SOCKET'), array('expectServerUid' => 0));
    assertContains('is not a socket (a symlink or another file)', $e->getMessage());
});

$t->test('a socket in a directory other users can change (not sticky) is refused: it could be swapped', function () {
    $e = refused(env('IPC_UNSAFE_SOCKET'), array('expectServerUid' => 0));
    assertContains('which users other than uid 0 can change', $e->getMessage());
});

$t->test('expectServerUid needs a Unix socket', function () {
    expectIPCException(PixlIPCClient::E_SERVER_IDENTITY, function () {
        new PixlIPCClient('tcp://127.0.0.1:1', array('expectServerUid' => 0));
    });
});

$t->test('control: without the check the impostor does get the request (so the test can tell)', function () {
    $ipc = new PixlIPCClient(env('IPC_IMPOSTOR_SOCKET'), array('expectServerUid' => null, 'requestTimeout' => 200));
    expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
        $ipc->call('/control', array('marker' => 'control-marker'));
    });
});

$t->run();
