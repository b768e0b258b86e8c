const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** Tagged template that escapes every interpolated value unless it is already `safe`. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString() {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((v, i) => {
    const parts = Array.isArray(v) ? v : [v];
    out += parts.map((p) => (p instanceof SafeHtml ? p.value : p == null || p === false ? '' : escapeHtml(String(p)))).join('');
    out += strings[i + 1]!;
  });
  return new SafeHtml(out);
}

export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Lockstep</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2433; background: #f3f5f9; }
  main { max-width: 24rem; margin: 10vh auto; background: #fff; padding: 2rem; border-radius: 12px; box-shadow: 0 2px 12px #0001; }
  h1 { font-size: 1.35rem; margin: 0 0 1rem; }
  label { display: block; margin: .9rem 0 .3rem; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem; border: 1px solid #b8c0cc; border-radius: 6px; }
  button { margin-top: 1.3rem; width: 100%; padding: .7rem; font-size: 1rem; background: #2454d6; color: #fff; border: 0; border-radius: 6px; cursor: pointer; }
  button:focus-visible, input:focus-visible { outline: 3px solid #f5a623; outline-offset: 1px; }
  .error { color: #a11; background: #fdecec; padding: .6rem; border-radius: 6px; }
  .muted { color: #5b6475; font-size: .9rem; }
</style>
</head>
<body><main>${body}</main></body>
</html>`.value;
}

export function messagePage(title: string, message: string): string {
  return page(title, html`<h1>${title}</h1><p>${message}</p>`);
}
