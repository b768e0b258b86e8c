import { parseArgs } from 'node:util';
import { ConfigError, configFromEnv } from '../config.ts';
import { createOrg } from './org-create.ts';
import { start } from './start.ts';

const USAGE = `Usage:
  lockstep [start]                                     run the server (configuration from the environment; see README)
  lockstep org create --name NAME --admin-email EMAIL  create an organization and its first admin (prints a one-time password)`;

async function main(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: 'string' }, 'admin-email': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return console.log(USAGE);
  const config = configFromEnv();
  const [command = 'start', sub] = positionals;
  if (command === 'start') return start(config);
  if (command === 'org' && sub === 'create') {
    if (!values.name || !values['admin-email']) throw new ConfigError('org create needs --name and --admin-email');
    return createOrg(config, values.name, values['admin-email']);
  }
  throw new ConfigError(`Unknown command: ${positionals.join(' ')}`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const usage = err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  console.error(`lockstep: ${(err as Error).message}${usage ? `\n\n${USAGE}` : ''}`);
  process.exit(usage ? 2 : 1);
});
