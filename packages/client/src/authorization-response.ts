/**
 * The answer of /oauth/authorize as one window hands it to another: the redirect page of a popup sign-in posts it
 * to `window.opener`, that of a silent sign-in to `window.parent`, addressed to its own origin only.
 * The kind of sign-in travels in `state` itself (a prefix), because the redirect page may not share
 * sessionStorage with the frame that started it (storage partitioning of third-party frames).
 */
export const AUTHORIZATION_RESPONSE = 'lockstep:authorization-response';

export interface AuthorizationResponseMessage {
  type: typeof AUTHORIZATION_RESPONSE;
  state: string;
  code?: string;
  error?: string;
  error_description?: string;
  iss?: string;
}

export type AuthorizationKind = 'redirect' | 'popup' | 'silent';

const PREFIX: Record<Exclude<AuthorizationKind, 'redirect'>, string> = { popup: 'p.', silent: 's.' };

/** A random state value, marked with the kind of sign-in (base64url never contains a dot). */
export function markState(kind: AuthorizationKind, random: string): string {
  return kind === 'redirect' ? random : `${PREFIX[kind]}${random}`;
}

export function stateKind(state: string): AuthorizationKind {
  if (state.startsWith(PREFIX.popup)) return 'popup';
  if (state.startsWith(PREFIX.silent)) return 'silent';
  return 'redirect';
}

/** The message for the query of a redirect page (`?code=...&state=...&iss=...` or `?error=...`). */
export function responseFromQuery(params: URLSearchParams): AuthorizationResponseMessage {
  const message: AuthorizationResponseMessage = { type: AUTHORIZATION_RESPONSE, state: params.get('state') ?? '' };
  for (const key of ['code', 'error', 'error_description', 'iss'] as const) {
    const value = params.get(key);
    if (value != null) message[key] = value;
  }
  return message;
}

export function isAuthorizationResponse(data: unknown): data is AuthorizationResponseMessage {
  const m = data as Partial<AuthorizationResponseMessage> | null;
  return !!m && typeof m === 'object' && m.type === AUTHORIZATION_RESPONSE && typeof m.state === 'string'
    && (typeof m.code === 'string' || typeof m.error === 'string');
}
