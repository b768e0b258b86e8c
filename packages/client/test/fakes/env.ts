import { Lockstep } from '../../src/index.ts';
import type { LockstepEvents, LockstepOptions } from '../../src/types.ts';
import { BroadcastBus, FakeDocument, FakeLocation, FakeWindow, MemoryStorage } from './browser.ts';
import { FakeClock } from './clock.ts';
import { ISSUER, FakeServer } from './server.ts';
import { fakeWebSocketClass, type FakeWebSocket } from './websocket.ts';

export const CLIENT_ID = 'agent-desktop';
export const REDIRECT_URI = 'https://app.test/callback';

/** One browser (clock, server, WebSockets, BroadcastChannels); tabs are made with `tab()`. */
export function fakeBrowser() {
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  const bus = new BroadcastBus();
  const { WebSocket, sockets } = fakeWebSocketClass();
  let random = 0.5;

  /** `framedBy`: the page runs in an iframe of a page of that origin (location.ancestorOrigins, window.top). */
  function tab(overrides: Partial<LockstepOptions> & { href?: string; framedBy?: string } = {}) {
    const storage = new MemoryStorage();
    const location = new FakeLocation(overrides.href ?? 'https://app.test/inbox?folder=open#m42');
    const window = new FakeWindow();
    const document = new FakeDocument();
    if (overrides.framedBy) {
      window.top = { location: { get origin(): string { throw new Error('SecurityError: cross-origin frame'); } } };
      location.ancestorOrigins = [overrides.framedBy];
    }
    const events: { [E in keyof LockstepEvents]?: LockstepEvents[E][] } = {};
    const { href: _href, framedBy: _framedBy, ...options } = overrides;
    const lockstep = new Lockstep({
      issuer: ISSUER, clientId: CLIENT_ID, redirectUri: REDIRECT_URI,
      fetch: server.fetch, WebSocket, clock, random: () => random, storage, broadcast: bus.open, location, window, document,
      ...options,
    });
    for (const name of ['stateChange', 'signedIn', 'signedOut', 'idleWarning', 'idleReset', 'channel', 'notification', 'signInBlocked'] as const) {
      lockstep.on(name, (payload) => ((events[name] ??= []) as unknown[]).push(payload));
    }
    /** Stores a token as the redirect callback would have. */
    const signedInAs = (accessToken: string, sid = `sid-${accessToken}`) =>
      storage.setItem(`lockstep:${CLIENT_ID}:token`, JSON.stringify({ accessToken, expiresAt: null, sid }));
    return { lockstep, storage, location, window, document, events, signedInAs };
  }

  return {
    clock, server, bus, sockets, tab,
    setRandom: (value: number) => void (random = value),
    /** The most recent WebSocket the SDK opened. */
    lastSocket: (): FakeWebSocket => {
      const socket = sockets.at(-1);
      if (!socket) throw new Error('no WebSocket was opened');
      return socket;
    },
  };
}

export type Browser = ReturnType<typeof fakeBrowser>;
export type Tab = ReturnType<Browser['tab']>;

/** A signed-in tab with its channel connected. */
export async function connectedTab(browser: Browser, token = 't1', overrides: Parameters<Browser['tab']>[0] = {}) {
  if (!browser.server.tokens.has(token)) browser.server.issue(token);
  const tab = browser.tab(overrides);
  tab.signedInAs(token);
  const state = await tab.lockstep.start();
  if (state !== 'signed_in') throw new Error(`expected signed_in, got ${state}`);
  await browser.clock.advance(0);
  browser.lastSocket().open();
  return tab;
}
