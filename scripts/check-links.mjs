#!/usr/bin/env node
// Checks the links of the documentation: every relative link in README.md and docs/*.md must name a file or
// directory inside the repository, and every #anchor into a Markdown file one of its headings. Links out of the
// repository (http:, mailto:, ../ past the root, bare URLs that GitHub would turn into links) are refused: users
// read these files in their checkout, and the docs must not depend on anything else.
//
//   node scripts/check-links.mjs            README.md and docs/*.md
//   node scripts/check-links.mjs FILE...    only these files
//
// Exit code 0 when every link resolves, 1 otherwise. `checkLinks()` is exported for the test suite.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** README.md and docs/*.md, relative to `root`. */
export function documentationFiles(root = ROOT) {
  const docs = existsSync(join(root, 'docs')) ? readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort() : [];
  return ['README.md', ...docs.map((f) => `docs/${f}`)].filter((f) => existsSync(join(root, f)));
}

/**
 * The lines of a Markdown file with fenced code blocks blanked and (unless `keepCode`) inline code spans removed,
 * so that neither is read as a link or a heading. Line numbers stay those of the file.
 */
function proseLines(text, { keepCode = false } = {}) {
  const lines = text.split(/\r?\n/);
  let fence = null;
  return lines.map((line) => {
    const opener = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      const closer = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(line);
      if (closer && closer[1][0] === fence[0] && closer[1].length >= fence.length) fence = null;
      return '';
    }
    if (opener) {
      fence = opener[1];
      return '';
    }
    return keepCode ? line : line.replace(/(`+)(?!`)[\s\S]*?[^`]\1(?!`)/g, ' ');
  });
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens (github-slugger). */
export function slug(heading) {
  const text = heading
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/[`*~]/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: its headings' slugs (repeats numbered as GitHub does) and explicit ids. */
function anchorsOf(file) {
  const anchors = new Set();
  const seen = new Map();
  const add = (s) => {
    const n = seen.get(s) ?? 0;
    seen.set(s, n + 1);
    anchors.add(n ? `${s}-${n}` : s);
  };
  // Headings keep their code spans: `## The \`lockstep\` command` is #the-lockstep-command.
  const lines = proseLines(readFileSync(file, 'utf8'), { keepCode: true });
  lines.forEach((line, i) => {
    const atx = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (atx) return add(slug(atx[1]));
    const next = lines[i + 1];
    if (line.trim() && next !== undefined && /^ {0,3}(=+|-+)[ \t]*$/.test(next) && !/^ {0,3}([-*_][ \t]*){3,}$/.test(line) && !/^\s*[-*+|]/.test(line)) add(slug(line));
    for (const m of line.matchAll(/<a\s[^>]*(?:name|id)=["']([^"']+)["']/gi)) anchors.add(m[1]);
  });
  return anchors;
}

const INLINE_LINK = /(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
const REFERENCE_DEFINITION = /^ {0,3}\[([^\]]+)\]:\s*(<[^>]*>|\S+)/;
const AUTOLINK = /<([a-z][a-z0-9+.-]*:[^\s<>]*)>/gi;
const HTML_LINK = /<(?:a|img)\s[^>]*(?:href|src)=["']([^"']+)["']/gi;
/** What GitHub turns into a link without any markup (GFM autolink literals). */
const BARE_URL = /\b(?:https?:\/\/|www\.)[^\s<>]+/gi;

/** Every link target of a file, with its line. */
function linksOf(file) {
  const links = [];
  proseLines(readFileSync(file, 'utf8')).forEach((line, i) => {
    const at = i + 1;
    const definition = REFERENCE_DEFINITION.exec(line);
    if (definition) {
      links.push({ line: at, target: definition[2] });
      return;
    }
    let rest = line.replace(INLINE_LINK, (_m, _bang, _text, target) => {
      links.push({ line: at, target });
      return ' ';
    });
    rest = rest.replace(AUTOLINK, (_m, target) => {
      links.push({ line: at, target });
      return ' ';
    });
    rest = rest.replace(HTML_LINK, (_m, target) => {
      links.push({ line: at, target });
      return ' ';
    });
    for (const m of rest.matchAll(BARE_URL)) links.push({ line: at, target: m[0].replace(/[.,;:!?*_~'")\]]+$/, '') });
  });
  return links.map((l) => ({ ...l, target: l.target.replace(/^<|>$/g, '') }));
}

/** Why a link does not resolve inside the repository, or null when it does. */
function problemOf(root, file, target, anchorCache) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//') || /^www\./i.test(target)) return 'links outside the repository';
  const hash = target.indexOf('#');
  const pathPart = hash < 0 ? target : target.slice(0, hash);
  const anchor = hash < 0 ? null : target.slice(hash + 1);
  let decoded;
  try {
    decoded = decodeURIComponent(pathPart.split('?')[0]);
  } catch {
    return 'is not a valid percent-encoded path';
  }
  const resolved = decoded === '' ? file : decoded.startsWith('/') ? join(root, decoded) : resolve(dirname(file), decoded);
  const inside = relative(root, resolved);
  if (inside.startsWith('..') || isAbsolute(inside)) return 'points outside the repository';
  if (inside.split(sep).includes('node_modules')) return 'points into node_modules, which is not part of the repository';
  if (!existsSync(resolved)) return `${inside || '.'} does not exist`;
  if (anchor === null || anchor === '') return null;
  if (statSync(resolved).isDirectory() || extname(resolved).toLowerCase() !== '.md') return null; // line anchors of code files are not checked
  if (!anchorCache.has(resolved)) anchorCache.set(resolved, anchorsOf(resolved));
  let wanted;
  try {
    wanted = decodeURIComponent(anchor);
  } catch {
    wanted = anchor;
  }
  return anchorCache.get(resolved).has(wanted.toLowerCase()) || anchorCache.get(resolved).has(wanted) ? null : `${inside} has no heading #${anchor}`;
}

/** Checks the links of `files` (paths relative to `root`); answers how many were checked and every problem. */
export function checkLinks({ root = ROOT, files = documentationFiles(root) } = {}) {
  const anchorCache = new Map();
  const problems = [];
  let links = 0;
  for (const name of files) {
    const file = resolve(root, name);
    if (!existsSync(file)) {
      problems.push({ file: name, line: 0, target: '', problem: 'file not found' });
      continue;
    }
    for (const { line, target } of linksOf(file)) {
      links++;
      const problem = problemOf(root, file, target, anchorCache);
      if (problem) problems.push({ file: relative(root, file), line, target, problem });
    }
  }
  return { files: files.length, links, problems };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const { files, links, problems } = checkLinks(args.length ? { files: args.map((a) => relative(ROOT, resolve(a))) } : {});
  for (const p of problems) console.log(`${p.file}:${p.line}: ${p.target} — ${p.problem}`);
  console.log(`${links} links in ${files} files: ${problems.length ? `${problems.length} broken` : 'all resolve inside the repository'}`);
  process.exitCode = problems.length ? 1 : 0;
}
