/** Tiny DOM helpers: elements from a tag, attributes and children; labelled fields with a hint and an error slot. */

export type Child = Node | string | number | null | undefined | false | Child[];
type Listener = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Listener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'value' || key === 'checked') (el as unknown as Record<string, unknown>)[key] = value;
    else el.setAttribute(key === 'className' ? 'class' : key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]) {
  for (const c of children.flat(Infinity as 1) as Child[]) {
    if (c == null || c === false) continue;
    parent.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function replaceChildren(parent: Element, ...children: Child[]) {
  parent.replaceChildren();
  append(parent, children);
}

let counter = 0;
/** A document-unique id for label/aria wiring. */
export const uid = (prefix: string) => `${prefix}-${++counter}`;

/** A message slot next to a control: empty until set; announced when it changes. */
export interface Message {
  element: HTMLElement;
  set(text: string | null): void;
}

/** A status line: neutral, or saying something worked (`ok`) or did not (`failed`). */
export interface Status {
  element: HTMLElement;
  set(text: string | null, tone?: 'ok' | 'failed'): void;
}

export function errorSlot(id: string): Message {
  const element = h('p', { id, className: 'field-error', role: 'alert' });
  return { element, set: (text) => { element.textContent = text ?? ''; } };
}

export function statusSlot(): Status {
  const element = h('p', { className: 'form-status', role: 'status' });
  return {
    element,
    set(text, tone) {
      element.textContent = text ?? '';
      element.className = tone ? `form-status ${tone}` : 'form-status';
    },
  };
}

/** Marks a control invalid (or valid again) and points its description at the error slot. */
export function markInvalid(control: HTMLElement, invalid: boolean) {
  if (invalid) control.setAttribute('aria-invalid', 'true');
  else control.removeAttribute('aria-invalid');
}

export function describedBy(control: HTMLElement, ...ids: string[]) {
  control.setAttribute('aria-describedby', ids.join(' '));
}

/** A labelled switch (checkbox with role=switch): the label and an optional explanation read together. */
export function switchControl(label: string, checked: boolean, describedById?: string): { element: HTMLElement; input: HTMLInputElement } {
  const id = uid('switch');
  const input = h('input', { type: 'checkbox', role: 'switch', id, checked, 'aria-describedby': describedById });
  const element = h('div', { className: 'switch-row' }, input, h('label', { for: id }, label));
  return { element, input };
}

export function button(text: string, onclick: Listener, attrs: Attrs = {}): HTMLButtonElement {
  return h('button', { type: 'button', ...attrs, onclick }, text);
}

/** Runs an async action with the button disabled, so a double click cannot send twice. */
export async function busy<T>(control: HTMLButtonElement, action: () => Promise<T>): Promise<T> {
  control.disabled = true;
  control.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } finally {
    control.disabled = false;
    control.removeAttribute('aria-busy');
  }
}
