import { describe, expect, it } from 'vitest';
import { encodeUtf8Into } from './utf8.ts';

const reference = new TextEncoder();

function encoded(text: string, room = text.length * 3): number[] | -1 {
  const target = new Uint8Array(room);
  const n = encodeUtf8Into(text, target);
  return n < 0 ? -1 : [...target.subarray(0, n)];
}

describe('encodeUtf8Into', () => {
  it.each([
    ['ascii', 'xdp_prog'],
    ['two-byte', 'café ß'],
    ['three-byte', 'ключ €'],
    ['four-byte (surrogate pair)', 'map 🐝'],
    ['lone high surrogate', 'a\ud800b'],
    ['lone low surrogate', 'a\udc00b'],
    ['high surrogate at the end', 'ab\ud83d'],
    ['empty', ''],
  ])('matches TextEncoder: %s', (_, text) => {
    expect(encoded(text)).toEqual([...reference.encode(text)]);
  });

  it('matches TextEncoder on random code units', () => {
    let seed = 0x2545f491;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    for (let round = 0; round < 2000; round++) {
      const units = Array.from({ length: next() % 12 }, () => {
        const pick = next() % 4;
        return pick === 0 ? next() % 0x80 : pick === 1 ? 0xd800 + (next() % 0x800) : next() % 0x10000;
      });
      const text = String.fromCharCode(...units);
      expect(encoded(text), JSON.stringify(units)).toEqual([...reference.encode(text)]);
    }
  });

  it('returns -1 when the text does not fit and never writes half a character', () => {
    const target = new Uint8Array(4);
    expect(encodeUtf8Into('abcde', target)).toBe(-1);
    expect([...target]).toEqual([97, 98, 99, 100]);
    target.fill(0);
    expect(encodeUtf8Into('ab€', target)).toBe(-1); // € takes 3 bytes, 2 are left
    expect([...target]).toEqual([97, 98, 0, 0]);
    target.fill(0);
    expect(encodeUtf8Into('🐝', target)).toBe(4);
    expect(encodeUtf8Into('a🐝', target)).toBe(-1);
  });
});
