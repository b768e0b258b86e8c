import { ApiError, type Api, type AuthSettings, type Group, type IdleSettings, type Organization, type OrganizationFeatures } from './api.ts';
import { busy, describedBy, errorSlot, h, markInvalid, statusSlot, switchControl, uid, type Message, type Status } from './dom.ts';
import { durationField } from './duration-field.ts';
import { groupBundleEditor } from './group-bundles.ts';
import { humanize, targetOf } from './server-messages.ts';

const AUTH_SETTINGS = '/api/v2/organizations/authentication/settings';

/** Organization Settings → Authentication: universal logout, the idle token timeout (with groups), its excluded paths, HIPAA. */
export async function authenticationTab(api: Api): Promise<HTMLElement> {
  const [auth, idle, org, groups] = await Promise.all([
    api.get<AuthSettings>(AUTH_SETTINGS),
    api.get<IdleSettings>('/api/v2/tokens/timeout'),
    api.get<Organization>('/api/v2/organizations/me'),
    api.list<Group>('/api/v2/groups'),
  ]);
  const hipaa = org.features.hipaa;
  const idleCard = idleTimeoutCard(api, idle, groups, hipaa);
  return h('div', { className: 'cards' },
    universalLogoutCard(api, auth),
    idleCard.element,
    exclusionsCard(api, auth.inactivityTimeoutExclusions),
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

/**
 * Submits a form with one error slot: clears messages, runs the console's own check (a problem stops it), saves,
 * shows the outcome (server errors, humanized, in the slot).
 */
function saveOnSubmit(form: HTMLFormElement, save: HTMLButtonElement, error: Pick<Message, 'set'>, status: Status,
  saveIt: () => Promise<string>, opts: { check?: () => string | null; onFailure?: () => void } = {}) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.set(null);
    status.set(null);
    const problem = opts.check?.();
    if (problem) {
      error.set(problem);
      return status.set('Not saved.', 'failed');
    }
    void busy(save, async () => {
      try {
        status.set(await saveIt(), 'ok');
      } catch (err) {
        reportFailure(err, status, (m) => error.set(humanize(m)));
        opts.onFailure?.();
      }
    });
  });
}

function universalLogoutCard(api: Api, current: AuthSettings): HTMLElement {
  const explainId = uid('ul-explain');
  const toggle = switchControl('Universal logout', current.universalLogout, explainId);
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
  saveOnSubmit(form, save, error, status, async () => {
    const saved = await api.send<AuthSettings>('PATCH', AUTH_SETTINGS, { universalLogout: toggle.input.checked });
    toggle.input.checked = saved.universalLogout;
    return `Saved: universal logout is ${saved.universalLogout ? 'on' : 'off'}.`;
  });
  return card('Universal logout', form);
}

function idleTimeoutCard(api: Api, current: IdleSettings, groups: Group[], hipaa: boolean) {
  const explainId = uid('idle-explain');
  const toggle = switchControl('Idle token timeout', current.enableIdleTokenTimeout, explainId);
  const duration = durationField('Timeout', current.idleTokenTimeoutSeconds, current.inactivityTimeoutUnit, hipaa);
  const bundles = groupBundleEditor(current.inactivityTimeoutGroupsEnabled, current.inactivityTimeoutGroupBundles, groups, hipaa);
  const formError = errorSlot(uid('idle-error'));
  const status = statusSlot();
  const save = h('button', { type: 'submit' }, 'Save idle timeout');

  const form = h('form', { novalidate: true },
    h('p', { id: explainId, className: 'explain' },
      'When on, every access token of the organization — in any client — expires after this long without API activity with that token. Each client\'s token has its own clock. Users on a voice or email interaction, or in after-call work, are not timed out.'),
    toggle.element,
    duration.element,
    bundles.element,
    formError.element,
    h('div', { className: 'actions' }, save, status.element));

  function clearErrors() {
    duration.error.set(null);
    bundles.clearErrors();
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
    } else {
      formError.set(text);
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors();
    const timeout = duration.read();
    if ('problem' in timeout) {
      duration.error.set(timeout.problem);
      duration.input.focus();
      return status.set('Not saved.', 'failed');
    }
    const groupPart = bundles.read();
    if ('problem' in groupPart) {
      bundles.showError(groupPart.index, groupPart.problem);
      return status.set('Not saved.', 'failed');
    }
    const body: IdleSettings = {
      enableIdleTokenTimeout: toggle.input.checked,
      idleTokenTimeoutSeconds: timeout.seconds,
      inactivityTimeoutUnit: timeout.unit,
      inactivityTimeoutGroupsEnabled: groupPart.enabled,
      inactivityTimeoutGroupBundles: groupPart.bundles,
    };
    void busy(save, async () => {
      try {
        const saved = await api.send<IdleSettings>('PUT', '/api/v2/tokens/timeout', body);
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

/** The paths whose calls are not activity (background polling): part of the org's authentication settings. */
function exclusionsCard(api: Api, current: string[]): HTMLElement {
  const pathsId = uid('paths');
  const hint = h('p', { id: uid('paths-hint'), className: 'hint' },
    'One path per line, for example ', h('code', {}, '/api/v2/users/*/presences/purecloud'),
    '. Calls to these paths do not count as activity for the idle timeout. ', h('code', {}, '*'), ' matches one path segment; a trailing ',
    h('code', {}, '/**'), ' matches everything below.');
  const paths = h('textarea', { id: pathsId, rows: 4, spellcheck: 'false', value: current.join('\n') });
  const slot = errorSlot(uid('paths-error'));
  describedBy(paths, hint.id, slot.element.id);
  const error = {
    set(text: string | null) {
      slot.set(text);
      markInvalid(paths, text != null);
      if (text != null) paths.focus();
    },
  };
  paths.addEventListener('input', () => error.set(null));
  const status = statusSlot();
  const save = h('button', { type: 'submit' }, 'Save excluded paths');
  const form = h('form', { novalidate: true },
    h('div', { className: 'field' }, h('label', { for: pathsId }, 'Excluded paths'), hint, paths, slot.element),
    h('div', { className: 'actions' }, save, status.element));
  const entered = () => [...new Set(paths.value.split('\n').map((l) => l.trim()).filter(Boolean))];

  saveOnSubmit(form, save, error, status, async () => {
    const saved = (await api.send<AuthSettings>('PATCH', AUTH_SETTINGS, { inactivityTimeoutExclusions: entered() })).inactivityTimeoutExclusions;
    paths.value = saved.join('\n');
    return saved.length ? `Saved: ${saved.length} excluded path${saved.length === 1 ? '' : 's'}.` : 'Saved: no excluded paths.';
  }, {
    check() {
      const bad = entered().find((p) => !p.startsWith('/api/'));
      return bad ? `"${bad}" is not an API path: each line must start with /api/.` : null;
    },
  });
  return card('Idle timeout exclusions', form);
}

function hipaaCard(api: Api, current: boolean, onChange: (on: boolean) => void): HTMLElement {
  const explainId = uid('hipaa-explain');
  const toggle = switchControl('HIPAA compliance', current, explainId);
  const error = errorSlot(uid('hipaa-error'));
  describedBy(toggle.input, explainId, error.element.id);
  const status = statusSlot();
  const save = h('button', { type: 'submit' }, 'Save HIPAA setting');
  let saved = current;
  const form = h('form', { novalidate: true },
    h('p', { id: explainId, className: 'explain' },
      'While HIPAA compliance is on, no idle timeout — the organization\'s or a group bundle\'s — can be longer than 15 minutes. To turn it on, first lower any longer timeout.'),
    toggle.element, error.element,
    h('div', { className: 'actions' }, save, status.element));
  saveOnSubmit(form, save, error, status, async () => {
    saved = (await api.send<OrganizationFeatures>('PATCH', '/api/v2/organizations/features/hipaa', { enabled: toggle.input.checked })).hipaa;
    onChange(saved);
    return `Saved: HIPAA compliance is ${saved ? 'on' : 'off'}.`;
  }, { onFailure: () => (toggle.input.checked = saved) });
  form.addEventListener('change', () => {
    error.set(null);
    status.set(null);
  });
  return card('HIPAA', form);
}
