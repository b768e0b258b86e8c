import { h, uid } from './dom.ts';

/**
 * A modal confirmation (native <dialog>: focus moves in, Escape cancels, focus returns after).
 * Cancel has the focus first, so Enter alone never confirms a destructive action.
 */
export function confirmDialog(opts: { title: string; body: string; confirm: string }): Promise<boolean> {
  const titleId = uid('dialog-title');
  const bodyId = uid('dialog-body');
  const opener = document.activeElement as HTMLElement | null;
  const cancel = h('button', { type: 'submit', value: 'cancel', className: 'secondary', autofocus: true }, 'Cancel');
  const confirm = h('button', { type: 'submit', value: 'confirm', className: 'danger' }, opts.confirm);
  const dialog = h('dialog', { 'aria-labelledby': titleId, 'aria-describedby': bodyId },
    h('form', { method: 'dialog' },
      h('h2', { id: titleId }, opts.title),
      h('p', { id: bodyId }, opts.body),
      h('div', { className: 'actions' }, cancel, confirm)));
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      dialog.remove();
      opener?.focus();
      resolve(dialog.returnValue === 'confirm');
    });
    dialog.showModal();
  });
}
