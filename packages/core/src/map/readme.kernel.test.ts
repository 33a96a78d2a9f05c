/** The maps section of the README, as written there: if this breaks, fix the README too. */
import { requireKernel } from '@ebpf/test-utils';
import { MapFlags } from '@ebpf/uapi';
import { expect, it } from 'vitest';
import { ipv4, lpmKey, struct } from '../codec/index.ts';
import { BpfMap } from './index.ts';

requireKernel('README maps examples (kernel)', () => {
  it('the first example', () => {
    using counts = BpfMap.create({
      type: 'hash',
      key: 'u32',
      value: 'u64',
      maxEntries: 1024,
      name: 'counts',
    });
    counts.set(80, 1n);
    counts.set(80, 2n, { flags: 'exist' });
    expect(counts.get(80)).toBe(2n);
    expect(counts.get(81)).toBeUndefined();
    expect(counts.has(80)).toBe(true);
    expect(counts.delete(81)).toBe(false);
    expect([...counts]).toEqual([[80, 2n]]);
  });

  it('structs, LPM tries and mmapable arrays', () => {
    const flow = struct({ saddr: ipv4, daddr: ipv4, sport: 'u16', dport: 'u16', proto: 'u8' });
    const stats = struct({ packets: ['u64n', 0], bytes: ['u64n', 8] });
    using flows = BpfMap.create({ type: 'lru_hash', key: flow, value: stats, maxEntries: 65536 });
    const key = { saddr: '10.0.0.1', daddr: '10.0.0.2', sport: 1234, dport: 80, proto: 6 };
    flows.set(key, { packets: 1, bytes: 60 });
    expect(flows.get(key)).toEqual({ packets: 1, bytes: 60 });
    expect(flows.keySize).toBe(16);

    using routes = BpfMap.create({ type: 'lpm_trie', key: lpmKey(ipv4), value: 'u32', maxEntries: 1024 });
    routes.set({ prefixLen: 8, data: '10.0.0.0' }, 1);
    expect(routes.get({ prefixLen: 32, data: '10.1.2.3' })).toBe(1);

    using shared = BpfMap.create({
      type: 'array',
      key: 'u32',
      value: 'u64n',
      maxEntries: 1024,
      flags: MapFlags.Mmapable,
    });
    const mem = shared.memory();
    mem.u32[2 * 7] = 42;
    expect(shared.get(7)).toBe(42);
    expect(mem.u64[7]).toBe(42n);
  });
});
