import type { SystemPresence } from './records.ts';

/**
 * The system presences under the ids Genesys Cloud gives them in every org, so that code written
 * against Genesys Cloud (which sets presence by definition id) works here unchanged.
 */
const IDS: Record<SystemPresence, string> = {
  Available: '6a3af858-942f-489d-9700-5f9bcdcdae9b',
  Away: '5e5c5c66-ea97-4e7f-ac41-6424784829f2',
  Busy: '31fe3bac-dea6-44b7-bed7-47f91660a1a0',
  Break: '227b37e2-f1d0-4dd0-8f50-badd7cf6d158',
  Meal: '3fd96123-badb-4f69-bc03-1b1ccc6d8014',
  Meeting: 'bbdff279-7ae1-48ea-bade-7831d7234c64',
  Training: 'd2390a99-8546-bad9-8f0a-219548e8aeb0',
  Offline: 'ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5',
  'On Queue': 'e08eaf1b-ee47-4fa9-a231-1200e284798f',
};

export const PRESENCE_DEFINITIONS = Object.entries(IDS).map(([systemPresence, id]) => ({ id, systemPresence: systemPresence as SystemPresence }));

export const presenceDefinitionId = (p: SystemPresence): string => IDS[p];

export const systemPresenceOf = (definitionId: string): SystemPresence | undefined =>
  PRESENCE_DEFINITIONS.find((d) => d.id === definitionId.toLowerCase())?.systemPresence;
