/**
 * WebSocket close codes of Lockstep's notification channels. 4000–4999 is the final range: the SDK never
 * reconnects to a channel closed with one of them, including codes it does not know yet.
 */
export const CLOSE = { tokenEnded: 4001, channelRemoved: 4002, tokenExpired: 4003, unknownChannel: 4004 } as const;
export const FINAL_CLOSE_MIN = 4000;
export const FINAL_CLOSE_MAX = 4999;

/**
 * What the SDK does after a close:
 * - `token_ended` (4001): sign out, with the reason of the `token_revoked` event before it, or the token check's;
 * - `token_expired` (4003): sign out as expired;
 * - `stay_closed` (4002, the channel was replaced or is over the limit): no channel; the heartbeat checks the token;
 * - `new_channel` (4004): create a new channel (backoff), subscriptions included;
 * - `check_token` (another 4xxx): no channel; ask `GET /api/v2/tokens/me?preserveIdleTTL=true` whether the token lives;
 * - `reconnect` (below 4000: 1001, 1006, 1011...): reconnect to the same channel with full-jitter backoff.
 */
export type CloseAction = 'token_ended' | 'token_expired' | 'stay_closed' | 'new_channel' | 'check_token' | 'reconnect';

export function closeAction(code: number): CloseAction {
  switch (code) {
    case CLOSE.tokenEnded:
      return 'token_ended';
    case CLOSE.tokenExpired:
      return 'token_expired';
    case CLOSE.channelRemoved:
      return 'stay_closed';
    case CLOSE.unknownChannel:
      return 'new_channel';
    default:
      return code >= FINAL_CLOSE_MIN && code <= FINAL_CLOSE_MAX ? 'check_token' : 'reconnect';
  }
}
