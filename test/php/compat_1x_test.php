<?php
// 1.x subclasses load and work: a subclass written against the 1.x client
// overrides each of its public methods with the 1.x signatures (send() taking
// the request by reference; close(), which 1.x lacked, without parameters).
require_once __DIR__ . '/TestRunner.php';

/** A subclass as 1.x code wrote them: every public 1.x method overridden, plus its own close(). */
class LegacyLoggingClient extends PixlIPCClient
{
    public $log = array();

    public function __construct($socketPath, $options = null)
    {
        parent::__construct($socketPath, $options);
        $this->log[] = 'construct';
    }

    public function __destruct()
    {
        $this->log[] = 'destruct';
        parent::__destruct();
    }

    public function connect()
    {
        $this->log[] = 'connect';
        parent::connect();
    }

    public function send($uri, &$request)
    {
        $this->log[] = "send $uri";
        return parent::send($uri, $request);
    }

    public function close()
    {
        $this->log[] = 'close';
        parent::close();
    }

    protected function nextID()
    {
        return 'legacy' . $this->serialCounter++;
    }
}

/** A 1.x-era subclass that closes the socket itself, through the 1.x properties. */
class LegacyOwnCloseClient extends PixlIPCClient
{
    public function close()
    {
        if ($this->fp) {
            @stream_socket_shutdown($this->fp, STREAM_SHUT_RDWR);
            $this->fp = null;
        }
    }
}

$socket = env('IPC_SOCKET');
$t = new TestRunner();

$t->test('the public 1.x methods keep their 1.x signatures', function () {
    $expected = array(
        '__construct' => array(array('socketPath', false, false), array('options', false, true)),
        'connect' => array(),
        'send' => array(array('uri', false, false), array('request', true, false)),
    );
    foreach ($expected as $name => $params) {
        $method = new ReflectionMethod(PixlIPCClient::class, $name);
        assertTrue($method->isPublic(), "$name is public");
        $actual = array();
        foreach ($method->getParameters() as $param) {
            $actual[] = array($param->getName(), $param->isPassedByReference(), $param->isOptional());
        }
        assertSame($params, $actual, "$name parameters (name, by reference, optional)");
        assertSame(null, $method->getReturnType(), "$name declares no return type");
    }
    // close() is new since 1.x: no declared parameter, so a subclass's close() of any shape loads.
    assertSame(0, (new ReflectionMethod(PixlIPCClient::class, 'close'))->getNumberOfParameters(), 'close() parameters');
});

$t->test('a subclass overriding every 1.x method works the 1.x way', function () use ($socket) {
    $ipc = new LegacyLoggingClient($socket);
    $ipc->connect();
    $msg = array('foo' => 19, 'bar' => true, 'msg' => 'hello');
    assertSame($msg, $ipc->send('/ipcserver/test/echo', $msg));
    assertSame(array('foo' => 19, 'bar' => true, 'msg' => 'hello'), $msg, 'the request is not changed');
    $who = $ipc->send('/test/whoami', $msg);
    assertSame('legacy1', $who['ipcReqID'], 'the overridden nextID() names the requests');
    $log = $ipc->log;
    assertSame(array('construct', 'connect', 'send /ipcserver/test/echo', 'send /test/whoami'), $log);
    $ipc->close();
    assertSame(false, $ipc->isConnected(), 'closed through the override');
    $ipc->log = array();
    $ipc->__destruct();
    assertSame(array('destruct', 'close'), $ipc->log, 'the destructor goes through close()');
});

$t->test('a subclass with its own close() (1.x had none) loads, closes, and the next send reconnects', function () use ($socket) {
    $ipc = new LegacyOwnCloseClient($socket);
    $msg = array('n' => 1);
    $first = $ipc->send('/test/whoami', $msg)['connectionId'];
    $ipc->close();
    assertSame(false, $ipc->isConnected(), 'closed');
    $second = $ipc->send('/test/whoami', $msg)['connectionId'];
    assertTrue($first !== $second, 'a new connection');
});

$t->test('call() takes the data by value; send() needs a variable, as in 1.x', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    assertSame(array('v' => 1), $ipc->call('/ipcserver/test/echo', array('v' => 1)));
    $data = array('v' => 2);
    assertSame(array('v' => 2), $ipc->send('/ipcserver/test/echo', $data));
});

$t->run();
