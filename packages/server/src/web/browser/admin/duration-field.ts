import type { TimeoutUnit } from './api.ts';
import { describedBy, errorSlot, h, markInvalid, uid, type Message } from './dom.ts';
import { formatDuration } from './format.ts';

/** The limits the console checks before sending; the server has the last word (its floor can be lowered for tests). */
export const IDLE_MIN_SECONDS = 300;
export const IDLE_MAX_SECONDS = 28_800;
export const HIPAA_MAX_SECONDS = 900;

const UNITS: Record<TimeoutUnit, { seconds: number; word: string }> = {
  SECONDS: { seconds: 1, word: 'seconds' },
  MINUTES: { seconds: 60, word: 'minutes' },
  HOURS: { seconds: 3600, word: 'hours' },
};

export interface DurationField {
  element: HTMLElement;
  input: HTMLInputElement;
  error: Message;
  /** The value in seconds and the unit it was entered in, or a message to show next to the field. */
  read(): { seconds: number; unit: TimeoutUnit } | { problem: string };
  setHipaa(on: boolean): void;
}

export const limitHint = (hipaa: boolean) =>
  hipaa ? 'HIPAA is enabled: at most 15 minutes.' : `From ${formatDuration(IDLE_MIN_SECONDS)} to ${formatDuration(IDLE_MAX_SECONDS)}.`;

/** A duration as a number plus a unit (shown in the unit saved with it), with the range hint and an error slot next to it. */
export function durationField(label: string, seconds: number, unit: TimeoutUnit, hipaa: boolean): DurationField {
  const id = uid('duration');
  const input = h('input', {
    id, type: 'number', min: '1', step: 'any', inputmode: 'decimal', required: true, className: 'duration-value',
    value: String(seconds / UNITS[unit].seconds),
  });
  const unitId = uid('unit');
  const select = h('select', { id: unitId, 'aria-label': `${label} unit` },
    ...(Object.keys(UNITS) as TimeoutUnit[]).map((u) => h('option', { value: u, selected: u === unit }, UNITS[u].word)));
  const hint = h('p', { id: uid('hint'), className: 'hint' });
  const error = errorSlot(uid('error'));
  describedBy(input, hint.id, error.element.id);
  describedBy(select, hint.id);
  let capped = hipaa;
  const setHipaa = (on: boolean) => {
    capped = on;
    hint.textContent = limitHint(on);
  };
  setHipaa(hipaa);
  input.addEventListener('input', () => {
    error.set(null);
    markInvalid(input, false);
  });

  return {
    element: h('div', { className: 'field' },
      h('label', { for: id }, label),
      h('div', { className: 'duration' }, input, select),
      hint, error.element),
    input,
    error: {
      element: error.element,
      set(text) {
        error.set(text);
        markInvalid(input, text != null);
      },
    },
    read() {
      const chosen = select.value as TimeoutUnit;
      const value = Number(input.value);
      if (input.value.trim() === '' || !Number.isFinite(value) || value <= 0) return { problem: `${label}: enter a number of ${UNITS[chosen].word}.` };
      const total = Math.round(value * UNITS[chosen].seconds);
      if (capped && total > HIPAA_MAX_SECONDS) {
        return { problem: `${label} is ${formatDuration(total)}. HIPAA is enabled: the idle timeout can be at most 15 minutes.` };
      }
      if (total > IDLE_MAX_SECONDS) return { problem: `${label} is ${formatDuration(total)}; it can be at most 8 hours.` };
      return { seconds: total, unit: chosen };
    },
    setHipaa,
  };
}
