import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/**
 * `prefix_` + 26 characters: 48 bits of milliseconds then 80 random bits, so
 * ids sort by creation time (lists page through them by id) and never collide.
 */
export function newId(prefix: string): string {
  const bytes = Buffer.allocUnsafe(16);
  bytes.writeUIntBE(Date.now(), 0, 6);
  randomInto(bytes, 6);
  return `${prefix}_${base32(bytes)}`;
}

/**
 * Random bytes drawn from a pool filled 4 KiB at a time: a burst writes a
 * delivery id per webhook, and a call into the CSPRNG per id cost more than
 * the rest of the id.
 */
const pool = Buffer.alloc(4096);
let used = pool.length;

function randomInto(target: Buffer, offset: number): void {
  const n = target.length - offset;
  if (used + n > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  pool.copy(target, offset, used, used + n);
  used += n;
}
