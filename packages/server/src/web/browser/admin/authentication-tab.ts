import { ApiError, type Api, type AuthSettings, type Entities, type Group, type Hipaa, type IdleSettings } from './api.ts';
import { busy, describedBy, errorSlot, h, markInvalid, statusSlot, switchControl, uid, type Status } from './dom.ts';
import { durationField } from './duration-field.ts';
import { groupBundleEditor } from './group-bundles.ts';
import { humanize, targetOf } from './server-messages.ts';

/** Organization Settings → Authentication: universal logout, the idle token timeout (with groups and exclusions), HIPAA. */
export async function authenticationTab(api: Api): Promise<HTMLElement> {
  const [auth, idle, hipaa, groups] = await Promise.all([
    api.get<AuthSettings>('/api/v2/organizations/authentication/settings'),
    api.get<IdleSettings>('/api/v2/tokens/timeout'),
    api.get<Hipaa>('/api/v2/organizations/features/hipaa'),
    api.get<Entities<Group>>('/api/v2/groups'),
  ]);
  const idleCard = idleTimeoutCard(api, idle, groups.entities, hipaa.enabled);
  return h('div', { className: 'cards' },
    universalLogoutCard(api, auth),
    idleCard.element,
    hipaaCard(api, hipaa, idleCard.setHipaa));
}

function card(title: string, ...children: (Node | string)[]) {
  const headingId = uid('card');
  return h('section', { className: 'card', 'aria-labelledby': headingId }, h('h2', { id: headingId }, title), ...children);
}

/** Shows what a failed save said (the server's raw message picks the slot), then says it was not saved. */
function reportFailure(err: unknown, status: Status, place: (raw: string) => void) {
  place(err instanceof ApiError ? err.message : 'The server could not be reached. Nothing was saved.');
  status.set('Not saved.', 'failed');
}

/** Submits a one-switch form: clears messages, saves, shows the outcome (server errors next to the switch). */
function saveSwitch(form: HTMLFormElement, save: HTMLButtonElement, error: { set(m: string | null): void }, status: Status,
  saveIt: () => Promise<string>, onFailure: () => void = () => {}) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.set(null);
    status.set(null);
    void busy(save, async () => {
      try {
        status.set(await saveIt(), 'ok');
      } catch (err) {
        reportFailure(err, status, (m) => error.set(humanize(m)));
        onFailure();
      }
    });
  });
}

function universalLogoutCard(api: Api, current: AuthSettings): HTMLElement {
  const explainId = uid('ul-explain');
  const toggle = switchControl('Universal logout', current.universalLogoutEnabled, explainId);
  const error = errorSlot(uid('ul-error'));
  describedBy(toggle.input, explainId, error.element.id);
  const status = statusSlot();
  const save = h('button', { type: 'submit' }, 'Save universal logout');
  toggle.input.addEventListener('change', () => status.set(null));
  const form = h('form', { novalidate: true },
    h('div', { id: explainId, className: 'explain' },
      h('p', {}, h('strong', {}, 'Off: '), 'when a user logs out of one client, only that client is logged out. Their other clients stay signed in.'),
      h('p', {}, h('strong', {}, 'On: '), 'a logout from any client logs the user out of every client at once: all of their tokens expire, their sign-in sessions end, and their other open clients are told immediately.'),
      h('p', { className: 'hint' }, 'Takes effect for the next logout, without a restart. "Log off" on the Users page always logs a user out everywhere.')),
    toggle.element, error.element,
    h('div', { className: 'actions' }, save, status.element));
  saveSwitch(form, save, error, status, async () => {
    const saved = await api.send<AuthSettings>('PATCH', '/api/v2/organizations/authentication/settings', { universalLogoutEnabled: toggle.input.checked });
    toggle.input.checked = saved.universalLogoutEnabled;
    return `Saved: universal logout is ${saved.universalLogoutEnabled ? 'on' : 'off'}.`;
  });
  return card('Universal logout', form);
}

function idleTimeoutCard(api: Api, current: IdleSettings, groups: Group[], hipaa: boolean) {
  const explainId = uid('idle-explain');
  const toggle = switchControl('Idle token timeout', current.enableIdleTokenTimeout, explainId);
  const duration = durationField('Timeout', current.idleTokenTimeoutSeconds, hipaa);
  const bundles = groupBundleEditor(current.inactivityTimeoutGroupsEnabled, current.inactivityTimeoutGroupBundles, groups, hipaa);
  const pathsId = uid('paths');
  const pathsHint = h('p', { id: uid('paths-hint'), className: 'hint' },
    'One path per line, for example ', h('code', {}, '/api/v2/users/*/presence'),
    '. Calls to these paths do not count as activity (background polling). ', h('code', {}, '*'), ' matches one path segment; a trailing ',
    h('code', {}, '/**'), ' matches everything below.');
  const paths = h('textarea', { id: pathsId, rows: 4, spellcheck: 'false', value: current.excludedPaths.join('\n') });
  const pathsError = errorSlot(uid('paths-error'));
  describedBy(paths, pathsHint.id, pathsError.element.id);
  paths.addEventListener('input', () => {
    pathsError.set(null);
    markInvalid(paths, false);
  });
  const formError = errorSlot(uid('idle-error'));
  const status = statusSlot();
  const save = h('button', { type: 'submit' }, 'Save idle timeout');

  const form = h('form', { novalidate: true },
    h('p', { id: explainId, className: 'explain' },
      'When on, every access token of the organization — in any client — expires after this long without API activity with that token. Each client\'s token has its own clock. Users on a voice or email interaction, or in after-call work, are not timed out.'),
    toggle.element,
    duration.element,
    bundles.element,
    h('div', { className: 'field' }, h('label', { for: pathsId }, 'Excluded paths'), pathsHint, paths, pathsError.element),
    formError.element,
    h('div', { className: 'actions' }, save, status.element));

  function clearErrors() {
    duration.error.set(null);
    bundles.clearErrors();
    pathsError.set(null);
    markInvalid(paths, false);
    formError.set(null);
    status.set(null);
  }

  function showServerError(message: string) {
    const target = targetOf(message);
    const text = humanize(message);
    if (target.field === 'timeout') {
      duration.error.set(text);
      duration.input.focus();
    } else if (target.field === 'bundle') {
      bundles.showError(target.index, text, /timeoutSeconds/.test(message));
    } else if (target.field === 'excludedPaths') {
      pathsError.set(text);
      markInvalid(paths, true);
      paths.focus();
    } else {
      formError.set(text);
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors();
    const seconds = duration.read();
    if ('problem' in seconds) {
      duration.error.set(seconds.problem);
      duration.input.focus();
      return status.set('Not saved.', 'failed');
    }
    const groupPart = bundles.read();
    if ('problem' in groupPart) {
      bundles.showError(groupPart.index, groupPart.problem);
      return status.set('Not saved.', 'failed');
    }
    const excludedPaths = [...new Set(paths.value.split('\n').map((l) => l.trim()).filter(Boolean))];
    const bad = excludedPaths.find((p) => !p.startsWith('/api/'));
    if (bad) {
      pathsError.set(`"${bad}" is not an API path: each line must start with /api/.`);
      markInvalid(paths, true);
      paths.focus();
      return status.set('Not saved.', 'failed');
    }
    const body: IdleSettings = {
      enableIdleTokenTimeout: toggle.input.checked,
      idleTokenTimeoutSeconds: seconds.seconds,
      inactivityTimeoutGroupsEnabled: groupPart.enabled,
      inactivityTimeoutGroupBundles: groupPart.bundles,
      excludedPaths,
    };
    void busy(save, async () => {
      try {
        const saved = await api.send<IdleSettings>('PUT', '/api/v2/tokens/timeout', body);
        paths.value = saved.excludedPaths.join('\n');
        status.set(saved.enableIdleTokenTimeout ? 'Saved: the idle timeout is on.' : 'Saved: the idle timeout is off.', 'ok');
      } catch (err) {
        reportFailure(err, status, showServerError);
      }
    });
  });

  return {
    element: card('Idle token timeout', form),
    setHipaa(on: boolean) {
      duration.setHipaa(on);
      bundles.setHipaa(on);
    },
  };
}

function hipaaCard(api: Api, current: Hipaa, onChange: (on: boolean) => void): HTMLElement {
  const explainId = uid('hipaa-explain');
  const toggle = switchControl('HIPAA compliance', current.enabled, explainId);
  const error = errorSlot(uid('hipaa-error'));
  describedBy(toggle.input, explainId, error.element.id);
  const status = statusSlot();
  const save = h('button', { type: 'submit' }, 'Save HIPAA setting');
  let saved = current.enabled;
  const form = h('form', { novalidate: true },
    h('p', { id: explainId, className: 'explain' },
      'While HIPAA compliance is on, no idle timeout — the organization\'s or a group bundle\'s — can be longer than 15 minutes. To turn it on, first lower any longer timeout.'),
    toggle.element, error.element,
    h('div', { className: 'actions' }, save, status.element));
  saveSwitch(form, save, error, status, async () => {
    saved = (await api.send<Hipaa>('PATCH', '/api/v2/organizations/features/hipaa', { enabled: toggle.input.checked })).enabled;
    onChange(saved);
    return `Saved: HIPAA compliance is ${saved ? 'on' : 'off'}.`;
  }, () => (toggle.input.checked = saved));
  form.addEventListener('change', () => {
    error.set(null);
    status.set(null);
  });
  return card('HIPAA', form);
}
