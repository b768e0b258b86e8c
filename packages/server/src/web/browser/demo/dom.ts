/** Tiny DOM helpers for the demo pages. */
type Attrs = Record<string, string | boolean | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | null)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (typeof value === 'function') node.addEventListener(key.replace(/^on/, ''), value);
    else if (value === true) node.setAttribute(key, '');
    else if (value !== false) node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

export function mount(...nodes: Node[]): void {
  const app = document.getElementById('app')!;
  app.replaceChildren(...nodes);
}

/**
 * `window.LOCKSTEP_CONFIG` of a demo page. `crmOrigin`: the demo CRM host on its own site (absent when not served);
 * `widgetUrl`: on the CRM host page, the widget it embeds.
 */
export interface DemoConfig {
  issuer: string;
  crmOrigin?: string | null;
  widgetUrl?: string;
}

export const config = (): DemoConfig => (window as unknown as { LOCKSTEP_CONFIG: DemoConfig }).LOCKSTEP_CONFIG;

export interface Choice {
  value: string;
  label: string;
}

/** A labelled select; `control` lets the page show a value that changed elsewhere. */
export function select(id: string, label: string, choices: readonly Choice[], value: string, onChange: (value: string) => void): { element: HTMLElement; control: HTMLSelectElement } {
  const control = h('select', { id, onchange: (e) => onChange((e.target as HTMLSelectElement).value) },
    ...choices.map((c) => h('option', { value: c.value, selected: c.value === value }, c.label)));
  return { element: h('span', {}, h('label', { for: id }, label), control), control };
}
