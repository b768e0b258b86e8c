import { html, page } from './html.ts';

export interface LoginPageInput {
  clientName: string;
  /** The authorization request, carried through the form as hidden fields. */
  params: Record<string, string>;
  csrf: string;
  username?: string;
  error?: string;
}

export function loginPage(input: LoginPageInput): string {
  const hidden = Object.entries(input.params).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`);
  return page(
    'Sign in',
    html`<h1>Sign in</h1>
<p class="muted">to continue to <strong>${input.clientName}</strong></p>
${input.error ? html`<p class="error" role="alert">${input.error}</p>` : ''}
<form method="post" action="/oauth/authorize">
  ${hidden}
  <input type="hidden" name="csrf" value="${input.csrf}">
  <label for="username">Email</label>
  <input id="username" name="username" type="email" autocomplete="username" required autofocus value="${input.username ?? ''}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>`,
  );
}
