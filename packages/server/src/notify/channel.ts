import type { LiveToken } from '../core/live-token.ts';

/**
 * WebSocket close codes a client acts on. 4001: the token ended — sign out, do not reconnect.
 * 4002: this channel was removed (replaced by a newer connection, or over the per-token limit).
 * 4003: the token expired. 4004: no such channel — create a new one. 1001: server going away — reconnect.
 */
export const CLOSE = { tokenRevoked: 4001, channelRemoved: 4002, tokenExpired: 4003, unknownChannel: 4004, goingAway: 1001 } as const;

export const MAX_CHANNELS_PER_TOKEN = 20;
export const HEARTBEAT_MS = 30_000;

/** The part of a WebSocket the hub uses (ws's WebSocket satisfies it). */
export interface ChannelSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface Channel {
  id: string;
  token: LiveToken;
  topics: Set<string>;
  socket: ChannelSocket | null;
  createdAt: number;
  expiresAt: number;
}

export interface ChannelMessage {
  topicName: string;
  eventBody: Record<string, unknown>;
}

const OPEN = 1;

export function send(socket: ChannelSocket | null, message: ChannelMessage): boolean {
  if (!socket || socket.readyState !== OPEN) return false;
  socket.send(JSON.stringify(message));
  return true;
}
