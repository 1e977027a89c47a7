/**
 * `--nats URL` for the commands that talk to a server (send, stats, bench...):
 * the command reaches a NATS cluster of daemons instead of a socket (see
 * docs/nats.md). Credentials go in the URL (nats://user:pass@host:4222,
 * nats://token@host:4222) or in a creds file (--nats-creds).
 */
import { Command } from 'commander';

/** What the NATS flags asked for, read by openClient (null: no --nats). */
let chosen: { servers: string; creds_file?: string; prefix?: string } | null = null;

/** The NATS settings from the command line, for the client's `nats` option (null without --nats). */
export function natsFromFlags(): { servers: string; creds_file?: string; prefix?: string } | null {
  return chosen;
}

/** Adds --nats, --nats-creds and --nats-prefix to `command`; with --nats, the command's target is the cluster. */
export function withNatsOption(command: Command): Command {
  return command
    .option('--nats <url>', 'reach the daemons through NATS instead of a socket: nats://host:4222 (several comma-separated; nats://user:pass@host for credentials)')
    .option('--nats-creds <file>', 'with --nats: a NATS .creds file')
    .option('--nats-prefix <prefix>', 'with --nats: the subject prefix the daemons serve (default ipc)')
    .hook('preAction', (self) => {
      const opts = self.opts();
      if (typeof opts.nats !== 'string' || opts.nats === '') return;
      chosen = { servers: opts.nats };
      if (opts.natsCreds) chosen.creds_file = opts.natsCreds;
      if (opts.natsPrefix) chosen.prefix = opts.natsPrefix;
      // Every command opens its client on `socket`: point it at the cluster (the URL without its credentials, for messages).
      self.setOptionValue('socket', opts.nats.replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1'));
    });
}
