import { escapeHtml } from './html.ts';

/** Inline JSON that cannot end the <script> element or break the JS parser (U+2028/2029). */
export function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** The admin console's HTML shell: configuration inline, the console itself is /admin/app.js. */
export function adminPage(issuer: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lockstep Admin</title>
<link rel="icon" href="data:,">
<style>${STYLES}</style>
<script>window.LOCKSTEP_CONFIG = ${inlineJson({ issuer })};</script>
<script type="module" src="/admin/app.js"></script>
</head>
<body>
<main id="app"><p class="muted">Loading…</p><noscript><p>The Lockstep admin console needs JavaScript (served from ${escapeHtml(issuer)}).</p></noscript></main>
</body>
</html>`;
}

const STYLES = `
:root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2433; background: #f3f5f9; line-height: 1.45; }
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; }
a { color: #1f49c4; }
:focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip-link { position: absolute; left: -999px; top: .5rem; background: #fff; color: #1d2433; padding: .4rem .8rem; border-radius: 6px; z-index: 10; }
.skip-link:focus { left: .5rem; }

header.top { display: flex; align-items: center; gap: 1.5rem; padding: 0 1.5rem; background: #1f3a8a; color: #fff; min-height: 3.5rem; flex-wrap: wrap; }
header.top .brand { font-weight: 700; font-size: 1.1rem; letter-spacing: .01em; }
header.top nav ul { display: flex; gap: .25rem; list-style: none; margin: 0; padding: 0; flex-wrap: wrap; }
header.top nav a { display: block; color: #dbe4ff; text-decoration: none; padding: .45rem .8rem; border-radius: 6px; font-weight: 500; }
header.top nav a:hover { background: #ffffff1f; color: #fff; }
header.top nav a[aria-current="page"] { background: #fff; color: #1f3a8a; }
header.top .who { margin-left: auto; display: flex; align-items: center; gap: .8rem; }

main { max-width: 72rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: .3rem 0 1rem; }
h1[tabindex="-1"]:focus { outline: none; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
.muted { color: #5b6475; }
.small { font-size: .85rem; }
code { background: #eef1f6; padding: .05rem .3rem; border-radius: 4px; font-size: .9em; }

nav.tabs { display: flex; gap: .25rem; border-bottom: 2px solid #d5dbe6; margin-bottom: 1.2rem; }
nav.tabs a { padding: .55rem 1rem; text-decoration: none; color: #3a4558; font-weight: 600; border-bottom: 3px solid transparent; margin-bottom: -2px; }
nav.tabs a[aria-current="page"] { color: #1f49c4; border-bottom-color: #1f49c4; }

.cards { display: grid; gap: 1.2rem; }
.card { background: #fff; border-radius: 10px; padding: 1.3rem 1.5rem; box-shadow: 0 1px 3px #0000001a, 0 1px 10px #0000000d; }
.explain { margin: 0 0 1rem; max-width: 48rem; }
.explain p { margin: 0 0 .4rem; }
.hint { color: #5b6475; font-size: .9rem; margin: .25rem 0; max-width: 48rem; }

label { font-weight: 600; }
.field { margin: 1rem 0; }
.field > label { display: block; margin-bottom: .3rem; }
input, select, textarea, button, .button { font: inherit; font-size: .95rem; }
input[type="number"], input[type="datetime-local"], select, textarea { padding: .45rem .6rem; border: 1px solid #9aa4b5; border-radius: 6px; background: #fff; color: inherit; }
textarea { width: 100%; max-width: 40rem; font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .9rem; }
[aria-invalid="true"] { border-color: #b42318 !important; box-shadow: 0 0 0 1px #b42318; }
.duration { display: flex; gap: .5rem; align-items: center; }
.duration-value { width: 7rem; }

.switch-row { display: flex; align-items: center; gap: .7rem; margin: .6rem 0; }
input[role="switch"] { appearance: none; -webkit-appearance: none; margin: 0; position: relative; width: 2.8rem; height: 1.55rem; border-radius: 1rem; background: #9aa4b5; cursor: pointer; flex: none; transition: background .15s; }
input[role="switch"]::before { content: ""; position: absolute; top: .175rem; left: .2rem; width: 1.2rem; height: 1.2rem; border-radius: 50%; background: #fff; box-shadow: 0 1px 2px #0004; transition: transform .15s; }
input[role="switch"]:checked { background: #1f49c4; }
input[role="switch"]:checked::before { transform: translateX(1.2rem); }
.switch-row label { cursor: pointer; }

fieldset { border: 0; padding: 0; margin: 0; }
fieldset.subsection { border-top: 1px solid #e4e8f0; margin-top: 1.4rem; }
fieldset.subsection > legend { float: left; width: 100%; font-weight: 700; font-size: 1rem; padding: 1rem 0 0; }
fieldset.subsection > legend + * { clear: both; }
fieldset.bundle { border: 1px solid #d5dbe6; border-radius: 8px; padding: .6rem 1rem .8rem; margin: .8rem 0; }
fieldset.bundle > legend { font-weight: 700; padding: 0 .3rem; }
.bundle-grid { display: flex; gap: 2rem; flex-wrap: wrap; }
.bundle-grid .field { margin: .4rem 0; }
fieldset.groups legend { font-weight: 600; margin-bottom: .2rem; }
.checklist { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; }
.check-row { display: flex; gap: .4rem; align-items: center; }
.check-row label { font-weight: 400; }
input[type="checkbox"]:not([role]) { width: 1.05rem; height: 1.05rem; margin: 0; }

button, .button { display: inline-block; white-space: nowrap; padding: .5rem 1rem; border-radius: 6px; border: 1px solid transparent; background: #1f49c4; color: #fff; cursor: pointer; font-weight: 600; text-decoration: none; }
button:hover, .button:hover { background: #183a9e; }
button.secondary { background: #e4e8f0; color: #1d2433; border-color: #c7cfdc; }
button.secondary:hover { background: #d5dbe6; }
button.danger { background: #b42318; }
button.danger:hover { background: #912018; }
button.small { padding: .3rem .7rem; font-size: .85rem; }
button:disabled { opacity: .6; cursor: not-allowed; }
header.top button.secondary { background: transparent; color: #fff; border-color: #ffffff80; }
header.top button.secondary:hover { background: #ffffff1f; }
.actions { display: flex; gap: .8rem; align-items: center; flex-wrap: wrap; margin-top: 1rem; }

.field-error { color: #a11a10; background: #fdecec; border-left: 4px solid #b42318; padding: .45rem .7rem; border-radius: 4px; margin: .4rem 0; max-width: 48rem; font-weight: 500; }
.field-error:empty { display: none; }
.form-status { margin: 0; font-weight: 600; color: #3a4558; }
.form-status.ok { color: #1e6b3a; }
.form-status.failed { color: #a11a10; }
.nowrap { white-space: nowrap; }
.form-status:empty { display: none; }

.toolbar { display: flex; justify-content: space-between; align-items: center; gap: 1rem; margin-bottom: .6rem; flex-wrap: wrap; }
.table-wrap { overflow-x: auto; background: #fff; border-radius: 10px; box-shadow: 0 1px 3px #0000001a; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .6rem .8rem; border-bottom: 1px solid #e4e8f0; vertical-align: top; }
thead th { background: #f7f8fb; font-size: .85rem; text-transform: uppercase; letter-spacing: .03em; color: #4a5568; }
tbody th { font-weight: 400; }
tbody th .name { font-weight: 600; }
tbody tr:last-child th, tbody tr:last-child td { border-bottom: 0; }
.token-list { margin: 0; padding: 0; list-style: none; }
.token-list li + li { margin-top: .35rem; }
.pill { display: inline-block; padding: .1rem .55rem; border-radius: 1rem; font-size: .85rem; font-weight: 600; background: #e4e8f0; }
.presence-available { background: #d9f2e3; color: #14532d; }
.presence-on-queue { background: #dbeafe; color: #1e3a8a; }
.presence-offline { background: #eceef2; color: #4a5568; }
.presence-busy, .presence-meeting { background: #fde2e1; color: #7f1d1d; }
.presence-away, .presence-break, .presence-meal { background: #fff1cc; color: #713f12; }
details summary { cursor: pointer; color: #1f49c4; font-size: .85rem; }
details pre { font-size: .8rem; background: #f7f8fb; padding: .5rem; border-radius: 6px; max-width: 36rem; overflow-x: auto; }

form.filters { display: grid; grid-template-columns: minmax(12rem, 1.3fr) minmax(10rem, 1fr) minmax(13.5rem, 1fr) minmax(13.5rem, 1fr) auto; gap: .4rem 1rem; align-items: end; background: #fff; padding: .4rem 1.2rem 1rem; border-radius: 10px; box-shadow: 0 1px 3px #0000001a; margin-bottom: 1rem; }
form.filters .field { margin: .6rem 0 0; }
form.filters .field > select, form.filters .field > input { width: 100%; height: 2.4rem; }
form.filters .actions { margin: 0; }
@media (max-width: 60rem) { form.filters { grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); } }
form.filters + .field-error, form.filters ~ .form-status { margin-bottom: .6rem; }

.page-intro { margin: 0 0 1rem; }
.card.application h2 { margin-bottom: .5rem; }
.card.application .derived-origins { padding-top: .6rem; }
.label { font-weight: 600; }
.field > .label { display: inline-block; margin-bottom: .3rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1.2rem; margin: 0 0 .4rem; }
dl.facts dt { font-weight: 600; color: #3a4558; }
dl.facts dd { margin: 0; min-width: 0; }
.uri-list, .origin-list { list-style: none; margin: 0; padding: 0; }
.uri-list li + li { margin-top: .2rem; }
.uri-list code, .origin-list code { overflow-wrap: anywhere; }
.origin-list { max-width: 40rem; }
.origin-list li { display: flex; align-items: center; gap: .6rem; padding: .35rem 0; min-height: 2.3rem; }
.origin-list li + li { border-top: 1px solid #eef1f6; }
.origin-list li button { margin-left: auto; }
.pill.tag { background: #e8eefc; color: #1f3a8a; font-size: .75rem; padding: .05rem .5rem; }
.add-row { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
.origin-input { flex: 1 1 18rem; max-width: 28rem; padding: .45rem .6rem; border: 1px solid #9aa4b5; border-radius: 6px; background: #fff; color: inherit; font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .9rem; }

.message-screen { max-width: 30rem; margin: 12vh auto; background: #fff; padding: 2rem 2.2rem; border-radius: 12px; box-shadow: 0 2px 14px #0000001f; }
.message-screen h1 { font-size: 1.4rem; }
dialog { border: 0; border-radius: 12px; padding: 1.5rem 1.8rem; max-width: 32rem; box-shadow: 0 8px 40px #0000004d; }
dialog::backdrop { background: #0f172a80; }
dialog .actions { justify-content: flex-end; }
`;
