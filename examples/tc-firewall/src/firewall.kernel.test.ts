import { requireKernel, VethNamespace } from '@ebpf/test-utils';
import { buildSource, requireTools, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Firewall } from './firewall.ts';
import { formatPrefix, parsePrefix } from './prefix.ts';

// Pings come from inside a namespace of their own and arrive at `outside`, where the firewall is.
requireKernel('tc-firewall example', () => {
  const scratch = new Scratch();
  let veth: VethNamespace;
  let firewall: Firewall;

  beforeAll(() => {
    requireTools(['clang-16']);
    const object = buildSource(scratch, new URL('./tc-firewall.bpf.c', import.meta.url), 'bpfel');
    veth = new VethNamespace('tcf');
    firewall = new Firewall(veth.outside, object);
  });
  afterAll(() => {
    firewall.close();
    veth.remove();
    scratch.dispose();
  });

  /** How many more packets each verdict counted while `fn` ran. */
  function trafficDuring(fn: () => void) {
    const before = firewall.traffic();
    fn();
    const after = firewall.traffic();
    return {
      pass: after.pass.packets - before.pass.packets,
      drop: after.drop.packets - before.drop.packets,
    };
  }

  it('passes pings from a source that is not blocked', () => {
    firewall.block('192.0.2.0/24');
    expect(trafficDuring(() => veth.ping(5))).toEqual({ pass: expect.toSatisfy((n) => n >= 5n), drop: 0n });
  });

  it('drops the pings of a blocked prefix and counts them under it', () => {
    const subnet = formatPrefix(parsePrefix(`${veth.insideAddress}/24`));
    firewall.block(subnet);
    const { drop } = trafficDuring(() => veth.ping(5));
    expect(drop).toBeGreaterThanOrEqual(5n);
    const blockedSubnet = firewall.blocked().find((b) => b.prefix === subnet);
    expect(blockedSubnet?.drops).toBe(drop);
  });

  it('passes them again once the prefix is unblocked', () => {
    expect(firewall.unblock(`${veth.insideAddress}/24`)).toBe(true);
    expect(trafficDuring(() => veth.ping(5))).toEqual({ pass: expect.toSatisfy((n) => n >= 5n), drop: 0n });
    expect(firewall.blocked().map((b) => b.prefix)).toEqual(['192.0.2.0/24']);
  });
});
