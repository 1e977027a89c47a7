<?php
// The shared connect-error hints (test/vectors/connect-hints.json): the PHP
// client renders every case exactly as the Node client and the CLI do.
require_once __DIR__ . '/TestRunner.php';

$t = new TestRunner();
$vectors = json_decode(file_get_contents(__DIR__ . '/../vectors/connect-hints.json'), true);
if (!is_array($vectors) || count($vectors) === 0) {
    throw new TestFailure('no vectors in test/vectors/connect-hints.json');
}
foreach ($vectors as $vector) {
    $t->test($vector['name'], function () use ($vector) {
        assertSame($vector['expect'], PixlIPCConnectHint::render($vector['situation']), 'hint');
    });
}

$t->test('this process as the hints show it: its primary group first, every group once (root shows root(0))', function () {
    $me = PixlIPCConnectHint::identity();
    assertSame(posix_geteuid(), $me['user']['id'], 'uid');
    assertSame(posix_getegid(), $me['groups'][0]['id'], 'primary group first');
    $ids = array_map(function ($g) {
        return $g['id'];
    }, $me['groups']);
    assertSame(count($ids), count(array_unique($ids)), 'each group once');
    $gr = posix_getgrgid(posix_getegid());
    assertSame($gr ? $gr['name'] : null, $me['groups'][0]['name'], 'group name');
});

$t->run();
