import { randomFillSync } from 'node:crypto';

/**
 * Random (version 4) UUIDs as flat strings. `crypto.randomUUID()` builds its answer by concatenating 20 pieces,
 * which V8 keeps as a tree of 14 cons strings: about 490 heap bytes per id instead of 64. Every token, grant,
 * session and channel request keeps its ids as long as it lives, so at a million tokens that is most of the memory.
 * Ids are formatted here in batches into one buffer, and each is one latin1 string read from it.
 */
const BATCH = 128;
const random = Buffer.alloc(16 * BATCH);
const text = Buffer.alloc(36 * BATCH);
let next = BATCH;

const HEX_PAIRS = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  const hex = b.toString(16).padStart(2, '0');
  HEX_PAIRS[2 * b] = hex.charCodeAt(0);
  HEX_PAIRS[2 * b + 1] = hex.charCodeAt(1);
}
const DASH = 45;

function refill(): void {
  randomFillSync(random);
  for (let k = 0; k < BATCH; k++) {
    const r = k * 16;
    random[r + 6] = (random[r + 6]! & 0x0f) | 0x40; // version 4
    random[r + 8] = (random[r + 8]! & 0x3f) | 0x80; // RFC 9562 variant
    let o = k * 36;
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) text[o++] = DASH;
      const pair = random[r + i]! * 2;
      text[o++] = HEX_PAIRS[pair]!;
      text[o++] = HEX_PAIRS[pair + 1]!;
    }
  }
  next = 0;
}

export function newId(): string {
  if (next === BATCH) refill();
  const start = next++ * 36;
  return text.toString('latin1', start, start + 36);
}
