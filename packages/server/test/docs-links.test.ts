/**
 * The README and docs/ link only inside the repository, and every link resolves: a file that exists, a heading that
 * exists (scripts/check-links.mjs).
 */
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
// @ts-expect-error a plain-JavaScript script without types
import { checkLinks } from '../../../scripts/check-links.mjs';

type Result = { files: number; links: number; problems: { file: string; line: number; target: string; problem: string }[] };

test('every link of the README and docs/ resolves inside the repository', () => {
  const { files, links, problems } = checkLinks() as Result;
  assert.ok(files >= 8 && links >= 40, `read ${files} files, ${links} links`);
  assert.deepEqual(problems, []);
});

test('the check refuses a link outside the repository, a missing file and a missing heading', () => {
  const root = mkdtempSync(join(tmpdir(), 'lockstep-links-'));
  try {
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs', 'a.md'), '# A title\n');
    writeFileSync(join(root, 'README.md'), [
      '[ok](docs/a.md#a-title)', '[web](https://example.com/)', '[up](../shared/DESIGN.md)', '[gone](docs/b.md)', '[anchor](docs/a.md#nope)',
    ].join('\n') + '\n');
    const { problems } = checkLinks({ root, files: ['README.md'] }) as Result;
    assert.deepEqual(problems.map((p) => p.target), ['https://example.com/', '../shared/DESIGN.md', 'docs/b.md', 'docs/a.md#nope']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
