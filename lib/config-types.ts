/**
 * IPCServerConfig: the `IPCServer` section of a pixl-server config, as
 * TypeScript sees it. A misspelled key is a compile error in an object literal
 * typed with it; at run time startup logs a warning for it (config-keys.ts).
 * The defaults live in config.ts (defaultConfig); docs/configuration.md documents each key.
 * Settings is the section as startup reads it (`ipc.settings`).
 */

/** Who may use an operations uri (stats, monitor): nobody, the daemon's own user (by the kernel's peer identity), or everyone who can connect. */
export type OperationsAccess = boolean | 'own_user';

/** A per-uri access rule of the `policy` key: first match wins. */
export interface PolicyRule {
  /** A regular expression tested against the uri. */
  uri: string;
  /** User names or uids allowed (by the kernel's peer identity). */
  users?: Array<string | number>;
  /** Groups (names or gids) whose members are allowed. */
  groups?: Array<string | number>;
  /** The connection must have authenticated. */
  auth?: boolean;
  /** TCP/TLS connections are allowed (they have no uid). */
  tcp?: boolean;
  /** Only callers on these transports ('unix', 'tcp', 'tls', 'nats') may call matching uris. */
  transports?: string[];
}

export interface IPCServerConfig {
  /** Where the Unix socket file is created (required). Its directory is created if missing and must be the daemon's own. */
  socket_path: string;
  /** The socket's file mode: octal digits (`"660"`) or a number (`0o660`); `false` leaves what the umask gives. Default `"600"`. */
  socket_chmod?: string | number | false;
  /** Ms shutdown waits for running requests to be answered. Default 2000. */
  exit_timeout?: number;
  /** At startup, take socket_path over from a daemon already listening there instead of refusing. Default false. */
  handoff?: boolean;
  /** After a hand-off's commit, ms the old daemon keeps serving and stands ready to take socket_path back if the new one dies. Default 1000. */
  handoff_watch?: number;
  /** The pixl-server timer event that cycles and logs the stats interval (`"tick"`, `"minute"`, `"hour"`, `"day"`), or false. Default `"minute"`. */
  log_stats_interval?: string | false;
  /** A response slower than this many ms counts as slow and is logged. Default 20. */
  slow_threshold_ms?: number;
  /** Most slow responses logged in one second. Default 10. */
  slow_log_per_second?: number;
  /** The longest request line, in bytes. Default 32 MiB. */
  max_message_size?: number;
  /** Connections open at once. Default 4096. */
  max_connections?: number;
  /** Requests running at once on one connection. Default 1024. */
  max_in_flight?: number;
  /** Unsent output on one connection, in bytes, before its reading pauses. Default 8 MiB. */
  max_output_buffer?: number;
  /** The longest line before a connection has authenticated (authentication on). Default 16384. */
  max_message_size_before_auth?: number;
  /** Request bytes one connection's running requests may hold before its reading pauses. Default 64 MiB. */
  max_in_flight_bytes?: number;
  /** Heap the running requests of one user may hold, estimated before parsing; past it requests are refused `over_budget`. Default 0: half of max_in_flight_total. */
  max_in_flight_bytes_per_user?: number;
  /** Heap the running requests of all connections may hold; past it requests are refused `over_budget`. Default 0: a quarter of V8's heap limit. */
  max_in_flight_total?: number;
  /** Unfinished lines across all connections, in bytes, before the biggest holder is refused. Default 128 MiB. */
  max_input_total?: number;
  /** Output queued to slow readers across all connections, in bytes, before the biggest is cut off. Default 256 MiB. */
  max_output_total?: number;
  /** Ms a line may take from its first byte to its newline (0: no limit). Default 10000. */
  line_timeout?: number;
  /** Ms a TLS handshake may take. Default 5000. */
  tls_handshake_timeout?: number;
  /** Ms of silence, with nothing running, before a connection is closed (0: never). Default 0. */
  idle_timeout?: number;
  /** Tokens a client may authenticate with; a non-empty list turns authentication on. */
  auth_tokens?: string[];
  /** A file of `user:password` lines; turns authentication on. */
  auth_users_file?: string;
  /** Ms a connection has to authenticate when authentication is on. Default 5000. */
  auth_timeout?: number;
  /** Also listen on TCP at this port (0: off). */
  listen_port?: number;
  /** The address the TCP and TLS listeners bind to. Default `"127.0.0.1"`. */
  listen_host?: string;
  /** Also listen on TLS at this port (0: off); needs tls_key and tls_cert. */
  tls_port?: number;
  /** PEM private key file for the TLS listener. */
  tls_key?: string;
  /** PEM certificate (chain) file for the TLS listener. */
  tls_cert?: string;
  /** PEM CA bundle file; when set, TLS clients must present a certificate it signed. */
  tls_ca?: string;
  /** Who `/ipcserver/stats` answers: `"own_user"` (the daemon's uid, by the kernel), true (everyone who can connect) or false. Default `"own_user"`. */
  stats_endpoint?: OperationsAccess;
  /** Who may watch the live traffic (`/ipcserver/monitor`), as stats_endpoint. Default `"own_user"`. */
  monitor_endpoint?: OperationsAccess;
  /** The most requests sent to each traffic watcher per second; the rest are counted as skipped. Default 1000. */
  monitor_events_per_second?: number;
  /** Keep per-endpoint figures and latency histograms. Default true. */
  endpoint_stats?: boolean;
  /** Answer `/ipcserver/metrics` with the Prometheus text. Default false. */
  metrics_endpoint?: boolean;
  /** Serve `GET /metrics` over HTTP on this port (0: off). */
  metrics_port?: number;
  /** The address the metrics listener binds to. Default `"127.0.0.1"`. */
  metrics_host?: string;
  /** A bearer token every request to the metrics listener must carry; prefer metrics_token_file. */
  metrics_token?: string;
  /** A file holding the metrics token (its first line), read at startup; must not be readable by every user. */
  metrics_token_file?: string;
  /** User names or uids allowed to connect (empty: anyone who can open the socket). */
  allow_users?: Array<string | number>;
  /** Groups (names or gids) whose members may connect. */
  allow_groups?: Array<string | number>;
  /** Let TCP and TLS connections in despite allow_users/allow_groups. Default false. */
  allow_tcp?: boolean;
  /** Per-uri identity rules, first match wins. */
  policy?: PolicyRule[];
  /** Connections one uid may hold open (0: no limit). Default 256. */
  max_connections_per_user?: number;
  /** Failed authentications in a row from one peer before its checks are spaced out (0: never). Default 5. */
  auth_throttle_after?: number;
  /** The longest wait, in ms, between two credential checks of a peer that keeps failing. Default 5000. */
  auth_throttle_max_ms?: number;
  /** Serve (and forward) over NATS: see docs/nats.md. */
  nats?: Record<string, unknown>;
}

/** The configuration as startup read and checked it (`ipc.settings`), in camelCase. */
export type { Settings } from './config';
