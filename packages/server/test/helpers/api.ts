import { bearer } from './browser.ts';

/** JSON API calls against a test server; returns status and parsed body. */
export function api(baseUrl: string) {
  return async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
    const headers: Record<string, string> = { ...bearer(token) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  };
}
