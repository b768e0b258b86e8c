import { parseArgs } from 'node:util';
import { checkDataDir, ConfigError, configFromEnv, unknownLockstepVariables, type Config } from '../config.ts';
import { printConfig } from './config-command.ts';
import { UsageError, usage } from './usage.ts';

const OPTIONS = {
  name: { type: 'string' },
  'admin-email': { type: 'string' },
  org: { type: 'string' },
  user: { type: 'string' },
  since: { type: 'string' },
  kind: { type: 'string' },
  limit: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** One-shot commands log only warnings unless LOG_LEVEL asks for more: their output is for a person. */
const quiet = (config: Config): Config => (process.env.LOG_LEVEL?.trim() ? config : { ...config, logLevel: 'warn' });

/** Each command loads the server's modules only when it runs: --help and config answer without them. */
async function main(argv: string[]) {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  const [command = 'start', sub, ...rest] = positionals;
  if (values.help || command === 'help') return console.log(usage());
  const config = configFromEnv();
  for (const name of unknownLockstepVariables()) console.error(`lockstep: warning: ${name} is not a Lockstep setting (a typo?); it is ignored`);
  if (command === 'config' && !sub) return printConfig(config);
  if (command === 'start' && !sub) {
    checkDataDir(config);
    const { start } = await import('./start.ts');
    return start(config);
  }
  if (command === 'org' && sub === 'create' && !rest.length) {
    if (!values.name || !values['admin-email']) throw new UsageError('org create needs --name and --admin-email');
    checkDataDir(config);
    const { createOrg } = await import('./org-create.ts');
    return createOrg(quiet(config), values.name, values['admin-email']);
  }
  if (command === 'user' && sub === 'logoff') {
    if (rest.length !== 1) throw new UsageError('user logoff needs the email of one user: lockstep user logoff EMAIL [--org ORG]');
    checkDataDir(config);
    const { logoffUser } = await import('./user-logoff.ts');
    return logoffUser(quiet(config), rest[0]!, values.org);
  }
  if (command === 'audit' && !sub) {
    checkDataDir(config);
    const { printAudit } = await import('./audit-command.ts');
    return printAudit(quiet(config), { since: values.since, org: values.org, user: values.user, kind: values.kind, limit: values.limit });
  }
  throw new UsageError(`Unknown command: lockstep ${positionals.join(' ')}`);
}

/** What the person at the terminal needs to read: the message, never a stack trace for a mistake of theirs. */
function explain(err: unknown): { text: string; code: number } {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')) return { text: `${e.message}\n\n${usage()}`, code: 2 };
  const hint = '(`lockstep config` prints the configuration in effect; `lockstep --help` lists every variable)';
  if (err instanceof ConfigError) {
    const problems = e.message.split('\n');
    return { text: `${problems.length > 1 ? `the configuration has ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}` : e.message}\n${hint}`, code: 2 };
  }
  // OpenSSL refusing the PEM files read from LOCKSTEP_TLS_CERT / LOCKSTEP_TLS_KEY, as the TLS server is created.
  if (e.code?.startsWith('ERR_OSSL') || /PEM routines|key values mismatch/.test(e.message ?? '')) {
    return { text: `LOCKSTEP_TLS_CERT and LOCKSTEP_TLS_KEY must be a PEM certificate and its private key: ${e.message}\n${hint}`, code: 2 };
  }
  if (e.code === 'EADDRINUSE') return { text: `the address is in use (${e.message.replace(/^listen EADDRINUSE: address already in use /, '')}): another process listens there; choose another PORT`, code: 2 };
  if (e.code === 'EACCES' && e.syscall === 'listen') return { text: `not allowed to listen there (${e.message}): ports below 1024 need privileges; choose another PORT`, code: 2 };
  return { text: e.message ?? String(err), code: 1 };
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const { text, code } = explain(err);
  console.error(`lockstep: ${text}`);
  process.exit(code);
});
