/** Ids (core/ids.ts): RFC 9562 version 4 UUIDs, unique across the batches they are formatted in. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../src/core/ids.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('newId gives version 4 UUIDs, all different, over many batches', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 50_000; i++) {
    const id = newId();
    assert.match(id, UUID_V4);
    seen.add(id);
  }
  assert.equal(seen.size, 50_000);
});

test('newId uses the random bits: every hex digit appears in every free position', () => {
  const ids = Array.from({ length: 4000 }, newId);
  for (const position of [0, 9, 15, 20, 35]) {
    assert.equal(new Set(ids.map((id) => id[position])).size, 16, `position ${position}`);
  }
});
