import { h, replaceChildren, type Child } from './dom.ts';

/** A centred card with a heading, one message and actions: signed out, not an admin, sign-in failed. */
export function messageScreen(root: HTMLElement, opts: { title: string; text: string; actions: Child[]; alert?: boolean }) {
  document.querySelector('body > header')?.remove();
  document.title = `${opts.title} · Lockstep Admin`;
  const heading = h('h1', { tabindex: -1 }, opts.title);
  replaceChildren(root, h('section', { className: 'message-screen' },
    heading,
    h('p', opts.alert ? { role: 'alert' } : {}, opts.text),
    h('div', { className: 'actions' }, opts.actions)));
  heading.focus();
}
