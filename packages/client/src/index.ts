/**
 * @lockstep/client — the browser SDK of Lockstep client apps. Served bundled at /sdk/lockstep.js.
 */
export { Lockstep } from './lockstep.ts';
export { LockstepError, type LockstepErrorCode } from './errors.ts';
export { describeSignOut } from './sign-out-messages.ts';
export { fullJitterDelay } from './backoff.ts';
export { isLoginRequired, LOGIN_REQUIRED_PARAM } from './return-to.ts';
export { HOST_ACTIVITY, HOST_SIGNED_OUT } from './host-frame.ts';
export { AUTHORIZATION_RESPONSE, type AuthorizationResponseMessage } from './authorization-response.ts';
export { HANDED_OVER, POPUP_SELF_CLOSE_MS } from './redirect-callback.ts';
export { CLOSE, closeAction, FINAL_CLOSE_MAX, FINAL_CLOSE_MIN, type CloseAction } from './close-codes.ts';
export { IDLE_EXPIRES_HEADER } from './idle-header.ts';
export { signOutReasonOf, type TokenRefusal } from './token-refusal.ts';
export type {
  BroadcastLike,
  ChannelState,
  Clock,
  DocumentLike,
  FrameElementLike,
  LocationLike,
  LockstepEvents,
  LockstepOptions,
  LockstepState,
  LockstepUser,
  MessageTargetLike,
  PopupLike,
  RedirectCallbackOptions,
  SignInDisplay,
  SignInOptions,
  SignInOutcome,
  SignOutReason,
  StorageLike,
  WebSocketConstructor,
  WebSocketLike,
  WindowLike,
} from './types.ts';
