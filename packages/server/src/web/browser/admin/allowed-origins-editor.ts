import { button, describedBy, errorSlot, h, markInvalid, replaceChildren, uid, type Message, type Status } from './dom.ts';
import { loopbackKey } from '../../../core/web-origins.ts';
import { MAX_ALLOWED_ORIGINS, problemWith } from './web-origins.ts';

export interface AllowedOriginsEditor {
  element: HTMLElement;
  input: HTMLInputElement;
  /** The slot next to the field: the console's own checks and the server's refusals. */
  error: Message;
  /** The list to send, with what is still typed in the field added; or why not (shown next to the field). */
  read(): { origins: string[] } | { problem: string };
  /** Shows what the server saved. */
  reset(origins: string[]): void;
}

export const anyPortTag = () => h('span', { className: 'pill tag' }, 'any port');

/** The explicit origins of one application: a list with a Remove button each, and a field to add one, checked on the spot. */
export function allowedOriginsEditor(current: string[], status: Status): AllowedOriginsEditor {
  let origins = [...current];
  const listLabelId = uid('origins-label');
  const list = h('ul', { className: 'origin-list', 'aria-labelledby': listLabelId });
  const inputId = uid('origin-input');
  const hint = h('p', { id: uid('origin-hint'), className: 'hint' },
    'An origin is ', h('code', {}, 'http(s)://host[:port]'), ', for example ', h('code', {}, 'https://crm.example.com'),
    ', with no path and no trailing slash. ', h('code', {}, 'http://127.0.0.1'), ' allows any port. At most ', String(MAX_ALLOWED_ORIGINS), '.');
  const input = h('input', {
    id: inputId, type: 'text', inputmode: 'url', autocomplete: 'off', spellcheck: 'false', className: 'origin-input',
    placeholder: 'https://crm.example.com',
  });
  const error = errorSlot(uid('origin-error'));
  describedBy(input, hint.id, error.element.id);
  const addButton = button('Add origin', () => add(), { className: 'secondary' });

  const setError = (text: string | null) => {
    error.set(text);
    markInvalid(input, text != null);
  };

  function render() {
    if (!origins.length) {
      replaceChildren(list, h('li', { className: 'muted' }, 'None'));
    } else {
      replaceChildren(list, ...origins.map((origin, i) => h('li', {},
        h('code', {}, origin), loopbackKey(origin) ? anyPortTag() : null,
        button('Remove', () => remove(i), { className: 'secondary small', 'aria-label': `Remove ${origin}` }))));
    }
    addButton.disabled = origins.length >= MAX_ALLOWED_ORIGINS;
    addButton.title = addButton.disabled ? `At most ${MAX_ALLOWED_ORIGINS} origins` : '';
  }

  /** Adds what the field holds; false (and the reason next to the field) when the server would refuse it. */
  function take(): boolean {
    const entry = input.value.trim();
    const problem = problemWith(entry, origins);
    if (problem) {
      setError(problem);
      input.focus();
      return false;
    }
    origins = [...origins, entry];
    input.value = '';
    render();
    return true;
  }

  function add() {
    const entry = input.value.trim();
    if (take()) status.set(`${entry} added. Save to apply it.`);
    else status.set(null);
  }

  function remove(index: number) {
    const [gone] = origins.splice(index, 1);
    setError(null);
    render();
    const buttons = list.querySelectorAll<HTMLButtonElement>('button');
    (buttons[Math.min(index, buttons.length - 1)] ?? input).focus();
    status.set(`${gone} removed. Save to apply it.`);
  }

  input.addEventListener('input', () => setError(null));
  input.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    add();
  });
  render();

  return {
    element: h('div', { className: 'origins-editor' },
      h('div', { className: 'field' }, h('span', { id: listLabelId, className: 'label' }, 'Extra allowed origins'), list),
      h('div', { className: 'field' },
        h('label', { for: inputId }, 'Add an allowed origin'), hint,
        h('div', { className: 'add-row' }, input, addButton),
        error.element)),
    input,
    error: { element: error.element, set: setError },
    read() {
      if (input.value.trim() && !take()) return { problem: error.element.textContent ?? '' };
      return { origins: [...origins] };
    },
    reset(saved) {
      origins = [...saved];
      render();
    },
  };
}
