import type { Group, GroupBundle } from './api.ts';
import { button, errorSlot, h, switchControl, uid, type Message } from './dom.ts';
import { durationField, type DurationField } from './duration-field.ts';

const MAX_BUNDLES = 5;

interface BundleRow {
  element: HTMLFieldSetElement;
  legend: HTMLLegendElement;
  remove: HTMLButtonElement;
  priority: HTMLSelectElement;
  duration: DurationField;
  groupBoxes: HTMLInputElement[];
  error: Message;
}

export interface BundleEditor {
  element: HTMLElement;
  /** The bundles as entered, or the first problem and the bundle it belongs to (null: the section). */
  read(): { enabled: boolean; bundles: GroupBundle[] } | { problem: string; index: number | null };
  showError(index: number | null, message: string, onTimeout?: boolean): void;
  clearErrors(): void;
  setHipaa(on: boolean): void;
}

/** Timeouts per group: up to five bundles of {priority 1–5, timeout, groups}; the lowest priority number wins. */
export function groupBundleEditor(enabled: boolean, bundles: GroupBundle[], groups: Group[], hipaa: boolean): BundleEditor {
  const explainId = uid('bundles-explain');
  const toggle = switchControl('Use a different timeout for some groups', enabled, explainId);
  const sectionError = errorSlot(uid('bundles-error'));
  const list = h('div', { className: 'bundles' });
  const rows: BundleRow[] = [];
  let capped = hipaa;
  const add = button('Add group bundle', () => {
    const used = new Set(rows.map((r) => Number(r.priority.value)));
    const priority = [1, 2, 3, 4, 5].find((p) => !used.has(p)) ?? 1;
    addRow({ priority, timeoutSeconds: 900, inactivityTimeoutUnit: 'MINUTES', groups: [] });
    rows.at(-1)?.priority.focus();
  }, { className: 'secondary' });

  function relabel() {
    rows.forEach((r, i) => {
      r.legend.textContent = `Group bundle ${i + 1}`;
      r.remove.setAttribute('aria-label', `Remove group bundle ${i + 1}`);
    });
    add.disabled = rows.length >= MAX_BUNDLES;
    add.title = add.disabled ? `At most ${MAX_BUNDLES} bundles` : '';
  }

  function addRow(bundle: GroupBundle) {
    const priorityId = uid('priority');
    const priority = h('select', { id: priorityId },
      ...[1, 2, 3, 4, 5].map((p) => h('option', { value: String(p), selected: p === bundle.priority }, String(p))));
    const duration = durationField('Timeout', bundle.timeoutSeconds, bundle.inactivityTimeoutUnit, capped);
    const known = new Set(groups.map((g) => g.id));
    const choices = [
      ...groups.map((g) => ({ id: g.id, name: g.name })),
      ...bundle.groups.filter((id) => !known.has(id)).map((id) => ({ id, name: `Unknown group (${id})` })),
    ];
    const groupBoxes: HTMLInputElement[] = [];
    const groupList = h('div', { className: 'checklist' }, ...choices.map((g) => {
      const id = uid('group');
      const box = h('input', { type: 'checkbox', id, value: g.id, checked: bundle.groups.includes(g.id) });
      groupBoxes.push(box);
      return h('div', { className: 'check-row' }, box, h('label', { for: id }, g.name));
    }));
    const error = errorSlot(uid('bundle-error'));
    const legend = h('legend', {});
    const row: BundleRow = {
      legend, priority, duration, groupBoxes, error,
      remove: button('Remove', () => {
        rows.splice(rows.indexOf(row), 1);
        row.element.remove();
        relabel();
        add.focus();
      }, { className: 'secondary small' }),
      element: h('fieldset', { className: 'bundle' }),
    };
    row.element.append(legend,
      h('div', { className: 'bundle-grid' },
        h('div', { className: 'field' }, h('label', { for: priorityId }, 'Priority'), priority,
          h('p', { className: 'hint' }, '1 wins over 5.')),
        duration.element),
      choices.length
        ? h('fieldset', { className: 'groups', 'aria-describedby': error.element.id }, h('legend', {}, 'Groups'), groupList)
        : h('p', { className: 'hint' }, 'This organization has no groups yet; create groups first.'),
      error.element,
      h('div', { className: 'actions' }, row.remove));
    rows.push(row);
    list.append(row.element);
    relabel();
  }

  bundles.forEach(addRow);
  relabel();

  return {
    element: h('fieldset', { className: 'subsection' },
      h('legend', {}, 'Timeout per group'),
      h('p', { id: explainId, className: 'hint' },
        "A user in a bundle's group gets that bundle's timeout instead of the one above. When a user is in several bundles, the lowest priority number wins."),
      toggle.element, list, sectionError.element, h('div', { className: 'actions' }, add)),
    read() {
      const out: GroupBundle[] = [];
      for (const [i, r] of rows.entries()) {
        const d = r.duration.read();
        if ('problem' in d) return { problem: d.problem, index: i };
        const chosen = r.groupBoxes.filter((b) => b.checked).map((b) => b.value);
        if (!chosen.length) return { problem: `Group bundle ${i + 1}: choose at least one group.`, index: i };
        const priority = Number(r.priority.value);
        if (out.some((b) => b.priority === priority)) return { problem: `Group bundle ${i + 1}: priority ${priority} is already used by another bundle.`, index: i };
        out.push({ priority, timeoutSeconds: d.seconds, inactivityTimeoutUnit: d.unit, groups: chosen });
      }
      return { enabled: toggle.input.checked, bundles: out };
    },
    showError(index, message, onTimeout = false) {
      const row = index == null ? undefined : rows[index];
      if (!row) return sectionError.set(message);
      if (onTimeout) row.duration.error.set(message);
      else row.error.set(message);
    },
    clearErrors() {
      sectionError.set(null);
      for (const r of rows) {
        r.error.set(null);
        r.duration.error.set(null);
      }
    },
    setHipaa(on) {
      capped = on;
      for (const r of rows) r.duration.setHipaa(on);
    },
  };
}
