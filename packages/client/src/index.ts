/**
 * @lockstep/client — the browser SDK of Lockstep client apps. Served bundled at /sdk/lockstep.js.
 */
export { Lockstep } from './lockstep.ts';
export { LockstepError, type LockstepErrorCode } from './errors.ts';
export { describeSignOut } from './sign-out-messages.ts';
export { fullJitterDelay } from './backoff.ts';
export { isLoginRequired, LOGIN_REQUIRED_PARAM } from './return-to.ts';
export { HOST_ACTIVITY, HOST_SIGNED_OUT } from './host-frame.ts';
export type {
  BroadcastLike,
  ChannelState,
  Clock,
  LocationLike,
  LockstepEvents,
  LockstepOptions,
  LockstepState,
  LockstepUser,
  RedirectCallbackOptions,
  SignOutReason,
  StorageLike,
  WebSocketConstructor,
  WebSocketLike,
  WindowLike,
} from './types.ts';
