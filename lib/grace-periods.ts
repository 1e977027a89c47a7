/**
 * How long the server waits for a peer before it stops waiting, where more
 * than one file needs the same wait: each defined once, by what it is for.
 */

/** How long a refused connection may stay open to read its error line or answer. */
export const REFUSED_GRACE_MS = 1000;

/** After the server ends a connection, how long the client gets to close its side before the socket is destroyed. */
export const CLIENT_CLOSE_GRACE_MS = 2000;

/** At the end of exit_timeout, how long answers get to reach the kernel before connections are cut off. */
export const SHUTDOWN_FLUSH_GRACE_MS = 250;

/** After a takeover, how long a port may stay busy once the old daemon's watch is over (it lets go as it stops). */
export const TAKEOVER_PORT_WAIT_MS = 5000;
