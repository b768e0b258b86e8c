import type { WindowLike } from './types.ts';

/** User input that counts as activity in `activity: 'input'` mode. Scroll does not bubble: listened to in the capture phase. */
const INPUT_EVENTS = ['keydown', 'pointerdown', 'click', 'touchstart', 'scroll'] as const;
const LISTENER_OPTIONS: AddEventListenerOptions = { passive: true, capture: true };

/** Calls `onInput` on every user input; answers the function that stops listening. */
export function listenForInput(win: WindowLike, onInput: () => void): () => void {
  const listener = () => onInput();
  for (const type of INPUT_EVENTS) win.addEventListener(type, listener, LISTENER_OPTIONS);
  return () => {
    for (const type of INPUT_EVENTS) win.removeEventListener(type, listener, LISTENER_OPTIONS);
  };
}
