import type { Config } from '../config.ts';
import { SETTINGS } from './settings.ts';

/** `lockstep config`: every variable, the value in effect, and whether it was set or is the default. */
export function printConfig(config: Config, env: NodeJS.ProcessEnv = process.env) {
  const rows = SETTINGS.map((s) => [s.name, s.show(config), env[s.name]?.trim() ? 'set' : 'default'] as const);
  const nameWidth = Math.max(...rows.map(([n]) => n.length)) + 2;
  const valueWidth = Math.min(60, Math.max(...rows.map(([, v]) => v.length)));
  console.log(rows.map(([name, value, source]) => `${name.padEnd(nameWidth)}${value.padEnd(valueWidth)}  ${source}`).join('\n'));
}
