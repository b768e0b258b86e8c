/** The admin API as the console uses it: JSON in and out, errors as values with the server's message. */

/** The unit an admin chose to see a timeout in; the seconds are the truth. */
export type TimeoutUnit = 'SECONDS' | 'MINUTES' | 'HOURS';
export interface IdleSettings {
  enableIdleTokenTimeout: boolean;
  idleTokenTimeoutSeconds: number;
  inactivityTimeoutUnit: TimeoutUnit;
  inactivityTimeoutGroupsEnabled: boolean;
  inactivityTimeoutGroupBundles: GroupBundle[];
}
export interface GroupBundle {
  priority: number;
  timeoutSeconds: number;
  inactivityTimeoutUnit: TimeoutUnit;
  groups: string[];
}
export interface AuthSettings {
  universalLogout: boolean;
  /** Calls to these paths are not activity. */
  inactivityTimeoutExclusions: string[];
}
export interface OrganizationFeatures {
  hipaa: boolean;
}
export interface Organization {
  id: string;
  name: string;
  features: OrganizationFeatures;
}
export interface User {
  id: string;
  email: string;
  name: string;
  roles: string[];
  createdAt: string;
}
export interface Group {
  id: string;
  name: string;
  description: string;
  type: 'official' | 'social';
  visibility: 'public' | 'members';
  rulesVisible: boolean;
  version: number;
  memberCount: number;
  memberIds: string[];
}
export interface Client {
  id: string;
  name: string;
  type: 'public' | 'confidential';
  redirectUris: string[];
  grantTypes: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri: string | null;
  /** Browser origins allowed for CORS besides those of the redirect URIs: `http(s)://host[:port]`. */
  allowedOrigins: string[];
  roles: string[];
  /** A native app: its loopback redirect URIs match on any port. */
  loopbackAnyPort: boolean;
  createdAt: string;
}
/** What `PUT /api/v2/oauth/clients/{id}` takes: the whole client, without id and dates (back-channel URI: confidential only). */
export type ClientBody = Omit<Client, 'id' | 'createdAt' | 'backchannelLogoutUri'> & { backchannelLogoutUri?: string | null };
export interface LiveToken {
  id: string;
  clientId: string;
  issuedAt: string;
  lastActivityAt: string;
  expiresAt: string;
  idleExpiresAt: string | null;
  channels: number;
}
export interface Presence {
  presenceDefinition: { id: string; systemPresence: string };
  modifiedDate: string;
}
export interface RoutingStatus {
  status: string;
  startTime: string;
}
export interface AuditEntry {
  id: number;
  at: string;
  kind: string;
  userId: string | null;
  clientId: string | null;
  details: Record<string, unknown>;
}
/** A paged list: one page of `entities`, and where it is among `pageCount` pages of `total` entities. */
export interface Page<T> {
  entities: T[];
  pageSize: number;
  pageNumber: number;
  total: number;
  pageCount: number;
}

/** A non-2xx answer: `status` and the server's stable `code` and `message`. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Fetcher = (path: string, init?: RequestInit) => Promise<Response>;

export interface Api {
  get<T>(path: string): Promise<T>;
  /** Every entity of a paged list, page after page. */
  list<T>(path: string): Promise<T[]>;
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { code?: string; message?: string };
    return new ApiError(response.status, body.code ?? 'error', body.message ?? `The server answered ${response.status}`);
  } catch {
    return new ApiError(response.status, 'error', text || `The server answered ${response.status}`);
  }
}

/** The largest page the server gives. */
const LIST_PAGE_SIZE = 500;

export function makeApi(fetcher: Fetcher): Api {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.headers = { ...init.headers, 'content-type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    const response = await fetcher(path, init);
    if (!response.ok) throw await errorOf(response);
    const text = await response.text();
    return (text ? JSON.parse(text) : null) as T;
  }
  async function list<T>(path: string): Promise<T[]> {
    const all: T[] = [];
    for (let pageNumber = 1; ; pageNumber++) {
      const page = await call<Page<T>>('GET', `${path}${path.includes('?') ? '&' : '?'}pageSize=${LIST_PAGE_SIZE}&pageNumber=${pageNumber}`);
      all.push(...page.entities);
      // An empty page ends the walk too, so a list that shrinks meanwhile cannot loop.
      if (page.pageNumber >= page.pageCount || !page.entities.length) return all;
    }
  }
  return {
    get: (path) => call('GET', path),
    list,
    send: (method, path, body) => call(method, path, body),
  };
}

export const enc = encodeURIComponent;
