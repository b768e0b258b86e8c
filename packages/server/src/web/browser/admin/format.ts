/** Human wording for durations and instants. */

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** 900 → "15 minutes", 5400 → "1 hour 30 minutes", 45 → "45 seconds". */
export function formatDuration(totalSeconds: number): string {
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const parts = [hours && plural(hours, 'hour'), minutes && plural(minutes, 'minute'), seconds && plural(seconds, 'second')].filter(Boolean);
  return parts.length ? parts.join(' ') : '0 seconds';
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

export const formatInstant = (iso: string) => dateTime.format(new Date(iso));
export const formatTime = (iso: string) => timeOnly.format(new Date(iso));

/**
 * `<input type="datetime-local">` value (local time, to the minute) → ISO-8601, or undefined when empty.
 * `endOfMinute` makes an upper bound include the whole minute it names.
 */
export function localInputToIso(value: string, opts: { endOfMinute?: boolean } = {}): string | undefined {
  if (!value) return undefined;
  const at = new Date(value).getTime();
  if (Number.isNaN(at)) return undefined;
  return new Date(opts.endOfMinute ? at + 59_999 : at).toISOString();
}
