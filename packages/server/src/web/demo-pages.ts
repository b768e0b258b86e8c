import { escapeHtml } from './html.ts';

export const DEMO_PAGES = ['agent', 'crm', 'embedded', 'callback'] as const;
type DemoPage = (typeof DEMO_PAGES)[number];

const TITLES: Record<DemoPage, string> = {
  agent: 'Agent Desktop',
  crm: 'Acme CRM',
  embedded: 'Agent widget',
  callback: 'Signing in…',
};

/** What a demo page's script reads from `window.LOCKSTEP_CONFIG`. */
export interface DemoPageConfig {
  issuer: string;
  /** The demo CRM host on its own site, which the widget accepts activity from. */
  crmOrigin?: string | null;
  /** For the CRM host page: the widget it embeds. */
  widgetUrl?: string;
}

/** An HTML shell: configuration inline, the page's own bundle, shared styles. */
export function demoPage(name: DemoPage, pageConfig: DemoPageConfig): string {
  const config = JSON.stringify(pageConfig).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(TITLES[name])} · Lockstep demo</title>
<style>${STYLES}</style>
<script>window.LOCKSTEP_CONFIG = ${config};</script>
<script type="module" src="/demo/${name}.js"></script>
</head>
<body class="${name}"><div id="app" aria-live="polite"><p class="muted">Loading…</p></div></body>
</html>`;
}

const STYLES = `
:root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2433; background: #eef1f6; }
body { margin: 0; }
header { display: flex; align-items: center; gap: 1rem; padding: .8rem 1.2rem; background: #1f3a8a; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; flex: 1; }
body.crm header { background: #0f766e; }
main { padding: 1.2rem; display: grid; gap: 1rem; max-width: 72rem; }
section.card { background: #fff; border-radius: 10px; padding: 1rem 1.2rem; box-shadow: 0 1px 6px #0001; }
section.card h2 { margin: 0 0 .6rem; font-size: 1rem; }
label { font-weight: 600; margin-right: .5rem; }
select, button, input { font-size: .95rem; padding: .45rem .7rem; border-radius: 6px; border: 1px solid #b8c0cc; }
button { background: #2454d6; color: #fff; border: 0; cursor: pointer; }
button.secondary { background: #e4e8f0; color: #1d2433; }
button.danger { background: #b42318; }
button:focus-visible, select:focus-visible, input:focus-visible, a:focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
.row { display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; }
.muted { color: #5b6475; }
.warning { background: #fff4d6; border: 1px solid #f0c36d; padding: .8rem 1rem; border-radius: 8px; }
.signed-out { max-width: 28rem; margin: 12vh auto; background: #fff; padding: 2rem; border-radius: 12px; text-align: center; box-shadow: 0 2px 12px #0002; }
.signed-out h1 { font-size: 1.3rem; }
nav a { color: #fff; margin-right: 1rem; }
.crm-layout { display: grid; grid-template-columns: 1fr 24rem; gap: 1rem; padding: 1.2rem; }
.crm-layout iframe { width: 100%; height: 34rem; border: 2px solid #0f766e; border-radius: 10px; background: #fff; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #e4e8f0; }
body.embedded main { padding: .8rem; }
body.embedded header { padding: .5rem .8rem; }
code { background: #f1f3f7; padding: .1rem .3rem; border-radius: 4px; }
`;
