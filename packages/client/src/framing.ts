import type { LocationLike, WindowLike } from './types.ts';

/**
 * True when this page runs in a frame of another origin (an embedded widget in a CRM): the redirect flow cannot
 * work there, so `signIn()` tries a silent sign-in, then a popup. Reads `location.ancestorOrigins` where the browser
 * has it; elsewhere, reading the top frame's location throws across origins.
 */
export function isFramedCrossOrigin(win: WindowLike | null, location: LocationLike): boolean {
  if (!win || win.top == null || win.top === win) return false;
  const own = new URL(location.href).origin;
  const ancestors = location.ancestorOrigins;
  if (ancestors) return Array.from(ancestors).some((origin) => origin !== own);
  try {
    return (win.top as { location: { origin: string } }).location.origin !== own;
  } catch {
    return true;
  }
}
