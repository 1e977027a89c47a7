<?php
// pixl-ipc 1.x shipped its PHP client here; it now lives in php-client/.
// Kept so `require 'node_modules/pixl-ipc/clients/PixlIPCClient.class.php'` keeps working.
require_once __DIR__ . '/../php-client/PixlIPCClient.class.php';
