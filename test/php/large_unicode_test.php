<?php
// Large messages both ways, and Unicode surviving the trip byte for byte.
require_once __DIR__ . '/TestRunner.php';

$socket = env('IPC_SOCKET');
$t = new TestRunner();

/** About $bytes bytes of JSON: keys of 1024-character strings, as in the original tests. */
function sizedMessage($bytes)
{
    $message = array();
    $keys = (int)ceil($bytes / 1024);
    for ($i = 0; $i < $keys; $i++) {
        $message["key_$i"] = str_pad("GiveMe$i", 1024, 'Dataz');
    }
    return $message;
}

/** A string of about $bytes bytes of multi-byte UTF-8, so reads split characters. */
function unicodeBlock($bytes)
{
    $unit = "é€😀中ש\u{0301}a";
    return str_repeat($unit, (int)ceil($bytes / strlen($unit)));
}

$t->test('a 1 MiB echo comes back whole', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 5000));
    $msg = sizedMessage(1024 * 1024);
    $result = $ipc->send('/ipcserver/test/echo', $msg);
    assertTrue($result === $msg, '1 MiB echo equal');
    assertTrue(strlen(json_encode($result)) >= 1024 * 1024, 'at least 1 MiB');
});

$t->test('a 16 MiB echo of multi-byte text comes back whole', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 20000));
    $text = unicodeBlock(16 * 1024 * 1024);
    $result = $ipc->call('/ipcserver/test/echo', array('text' => $text, 'tail' => 'end'));
    assertSame(strlen($text), strlen($result['text']), 'byte length');
    assertTrue($result['text'] === $text, '16 MiB text equal');
    assertSame('end', $result['tail']);
});

$t->test('16 MiB from PHP to the server arrives intact (checked by the handler)', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 20000));
    $text = unicodeBlock(16 * 1024 * 1024);
    $result = $ipc->call('/test/digest', array('text' => $text));
    assertSame(hash('sha256', $text), $result['sha256'], 'digest computed by the server');
    assertSame(strlen($text), $result['bytes'], 'byte length seen by the server');
});

$t->test('16 MiB from the server to PHP arrives intact', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 20000));
    $result = $ipc->call('/test/generate', array('bytes' => 16 * 1024 * 1024));
    assertSame(hash('sha256', $result['text']), $result['sha256'], 'digest of what arrived');
    assertTrue(strlen($result['text']) >= 16 * 1024 * 1024, 'at least 16 MiB');
    // The connection is still in step afterwards.
    assertSame(array('small' => 1), $ipc->call('/ipcserver/test/echo', array('small' => 1)));
});

$t->test('Unicode round-trips unchanged and the server sees the same characters', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $text = env('IPC_UNICODE_TEXT');
    $data = array(
        'text' => $text,
        'ключ' => 'значение',
        '🔑' => array('日本語', "emoji 👩‍👩‍👧 family", "line\nbreak\ttab \"quote\" back\\slash /slash", "\u{2028}\u{2029}\u{0000}", "é (e+\u{0301})"),
    );
    $result = $ipc->send('/ipcserver/test/echo', $data);
    assertSame($data, $result, 'echo');
    $check = $ipc->call('/test/unicode', array('text' => $text));
    assertSame(true, $check['same'], 'server saw the exact text');
    assertSame($text, $check['text'], 'server answer');
});

$t->run();
