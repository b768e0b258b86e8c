import WebSocket from 'ws';
import { bearer } from './browser.ts';

export interface ChannelMessage {
  topicName: string;
  eventBody: Record<string, any>;
}

export interface OpenChannel {
  id: string;
  ws: WebSocket;
  messages: ChannelMessage[];
  /** Resolves with the first message (already received or to come) matching `match`; rejects after `timeoutMs`. */
  next(match: (m: ChannelMessage) => boolean, timeoutMs?: number): Promise<ChannelMessage>;
  /** Resolves when the socket closes. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Creates a notification channel for `token` over the API and connects a real WebSocket to it. */
export async function openChannel(baseUrl: string, token: string, topics: string[] = []): Promise<OpenChannel> {
  const res = await fetch(baseUrl + '/api/v2/notifications/channels', { method: 'POST', headers: bearer(token) });
  if (res.status !== 200) throw new Error(`creating a channel answered ${res.status}: ${await res.text()}`);
  const { id, connectUri } = (await res.json()) as { id: string; connectUri: string };
  if (topics.length) {
    const sub = await fetch(`${baseUrl}/api/v2/notifications/channels/${id}/subscriptions`, {
      method: 'PUT', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify(topics.map((t) => ({ id: t }))),
    });
    if (sub.status !== 200) throw new Error(`subscribing answered ${sub.status}: ${await sub.text()}`);
  }
  const ws = new WebSocket(connectUri);
  const messages: ChannelMessage[] = [];
  const waiters: { match: (m: ChannelMessage) => boolean; resolve: (m: ChannelMessage) => void }[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as ChannelMessage;
    messages.push(m);
    for (const w of [...waiters]) if (w.match(m)) waiters.splice(waiters.indexOf(w), 1), w.resolve(m);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    id, ws, messages, closed,
    next: (match, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const seen = messages.find(match);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`no matching channel message within ${timeoutMs} ms; got ${JSON.stringify(messages)}`)), timeoutMs);
        waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      }),
  };
}

export const isTokenRevoked = (m: ChannelMessage) => m.topicName === 'v2.system.token_revoked';
