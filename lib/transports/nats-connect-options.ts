/**
 * How to reach a NATS cluster, as the server's `nats` block and the Node
 * client's `nats` option write it. Types only, without the `nats` package's
 * own types: the package is optional, and programs that do not install it
 * must still type-check against ours.
 */

/** The NATS settings, as written in a config file or passed to the client (snake_case and camelCase both accepted). */
export interface NatsConnectOptions {
  /** `nats://host:port` URLs (a string, a comma-separated string, or an array). */
  servers: string | string[];
  /** User and password (nats-server `authorization.users`). */
  user?: string;
  pass?: string;
  /** A token (nats-server `authorization.token`). */
  token?: string;
  /** An nkey seed (`SU...`) for nkey authentication, or `nkey_file` with the seed in a file. */
  nkey?: string;
  nkey_file?: string;
  nkeyFile?: string;
  /** A `.creds` file (JWT and seed) for decentralized auth. */
  creds_file?: string;
  credsFile?: string;
  /** TLS: true for the system's CAs, or PEM file paths. */
  tls?: boolean | { ca_file?: string; caFile?: string; cert_file?: string; certFile?: string; key_file?: string; keyFile?: string };
  /** The first subject token(s) of every uri (default `ipc`). */
  prefix?: string;
  /** The connection's name as nats-server's monitoring shows it. */
  name?: string;
}
