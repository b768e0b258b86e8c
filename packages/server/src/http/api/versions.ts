import { Conflict } from '../../core/errors.ts';

/** Genesys Cloud's optimistic concurrency: a change may name the version it is based on. */
export function checkVersion(kind: string, current: { id: string; version: number }, based: number | undefined) {
  if (based !== undefined && based !== current.version) {
    throw Conflict(`The ${kind} ${current.id} is at version ${current.version}, not ${based}; read it again and retry`);
  }
}

export const changedMeanwhile = (kind: string, id: string) => Conflict(`The ${kind} ${id} changed or was deleted meanwhile; read it again and retry`);
