import { describe, expect, it } from 'vitest';
import { PrefixIndex } from './prefix-index';
import { PREFIX_STRIDE, prefixKeys } from './prefix-hash';

describe('PrefixIndex', () => {
  it('stays within its capacity and forgets the prefixes not seen for a generation first', () => {
    const index = new PrefixIndex<string>(8);
    for (let k = 0; k < 100; k++) {
      index.see(1, 'hot'); // seen all the time: never forgotten
      index.see(1000 + k, `cold${k}`);
      expect(index.size).toBeLessThanOrEqual(8);
    }
    expect(index.get(1)).toBe('hot');
    expect(index.get(1000)).toBeUndefined();
    expect(index.get(1099)).toBe('cold99');
  });

  it('seeAll indexes every prefix of a sequence, and only the new ones of an extended sequence', () => {
    const index = new PrefixIndex<Uint32Array>(10_000);
    const first = Uint32Array.from({ length: 10 * PREFIX_STRIDE }, (_, i) => i);
    const longer = Uint32Array.from({ length: 20 * PREFIX_STRIDE }, (_, i) => i);
    const a = prefixKeys(first, new Int32Array(1));
    index.seeAll(a.keys, a.count, first);
    const b = prefixKeys(longer, new Int32Array(1));
    expect(b.count).toBe(20);
    expect([...b.keys.subarray(0, 10)]).toEqual([...a.keys.subarray(0, 10)]);
    index.seeAll(b.keys, b.count, longer);
    for (let k = 0; k < 10; k++) expect(index.get(b.keys[k])).toBe(first);
    for (let k = 10; k < 20; k++) expect(index.get(b.keys[k])).toBe(longer);
    expect(index.size).toBe(20);
  });
});
