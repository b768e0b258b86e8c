import { ENV_NAMES } from '../config.ts';
import { SETTINGS } from './settings.ts';

/** A command line that does not say what to do: the answer is the usage text, exit code 2. */
export class UsageError extends Error {}

/** An EMAIL argument: refused with the usage text unless it looks like an address. */
export function emailArgument(email: string): string {
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new UsageError(`Not an email address: ${email}`);
  return email;
}

const COMMANDS: [string, string][] = [
  ['start', 'run the server (the default command); configuration from the environment, below'],
  ['config', 'print the effective configuration: every variable, its value, whether it is the default (secrets masked)'],
  ['org create --name NAME --admin-email EMAIL', 'create an organization, its first admin (prints a one-time password) and its admin console client (prints the console URL)'],
  ['user logoff EMAIL [--org ORG]', "administrative logoff: end every token and sign-in session of the user; channels are told, the audit log records it, back-channel logouts go out. --org: refuse unless the user is in that org (id)"],
  ['audit [--since DURATION|ISO] [--org ORG | --user EMAIL] [--kind KIND] [--limit N]', 'print audit entries, oldest first: since a duration ago (30m, 12h, 7d; default 24h) or an ISO-8601 time; at most N (default 100)'],
  ['help, --help, -h', 'this text'],
];

export function usage(): string {
  const width = Math.max(...ENV_NAMES.map((n) => n.length)) + 2;
  return [
    'Usage: lockstep [COMMAND] [OPTIONS]',
    '',
    'Commands:',
    ...COMMANDS.flatMap(([form, text]) => [`  lockstep ${form}`, `      ${text}`]),
    '',
    'Environment (run `lockstep config` to see the values in effect):',
    ...SETTINGS.map((s) => `  ${s.name.padEnd(width)}${s.meaning}`),
    '',
    'Exit codes: 0 done, 1 failed, 2 bad command line or configuration.',
  ].join('\n');
}
