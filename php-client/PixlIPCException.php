<?php
/**
 * The exception every PixlIPCClient method throws. getCode() is one of the
 * PixlIPCClient::E_* constants; getServerCode() is the server's error code
 * (such as "access" or "handler_error") when the server sent one.
 */
class PixlIPCException extends Exception
{
    /** @var string|null */
    protected $serverCode;
    /** @var mixed */
    protected $data;

    /**
     * @param string      $message    human-readable reason
     * @param int         $code       one of the PixlIPCClient::E_* constants
     * @param string|null $serverCode the server's error code, if it sent one
     * @param mixed       $data       with codeToErr: the response data that carried the code
     */
    public function __construct($message, $code, $serverCode = null, $data = null)
    {
        parent::__construct($message, $code);
        $this->serverCode = $serverCode;
        $this->data = $data;
    }

    /**
     * The server's error code (for example "access"), or null when the error
     * happened on the client side.
     *
     * @return string|null
     */
    public function getServerCode()
    {
        return $this->serverCode;
    }

    /**
     * With codeToErr: the response's data (which holds `code` and `message`).
     *
     * @return mixed
     */
    public function getData()
    {
        return $this->data;
    }
}
