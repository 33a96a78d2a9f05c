import { AttachType, cNameOf, ProgLoadFlags, ProgType } from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import { programSection, sectionTable } from './sections.ts';

const cNames = (values: object, prefix: string): Set<string> =>
  new Set(
    Object.values(values).map((v) => (cNameOf(values as never, v as number) ?? '').slice(prefix.length)),
  );
const progTypes = cNames(ProgType, 'BPF_PROG_TYPE_');
const attachTypes = cNames(AttachType, 'BPF_');

describe.each(sectionTable.map((row) => [row[0], row] as const))('section row %s', (pattern, row) => {
  const [, type, attachType, flags = 0] = row;
  const bare = pattern.replace(/\+$/, '');

  it('names a program type and attach type of the uapi', () => {
    expect(progTypes.has(type.toUpperCase())).toBe(true);
    if (attachType !== undefined) expect(attachTypes.has(attachType.toUpperCase())).toBe(true);
  });

  it('is what its own name resolves to (no earlier row shadows it)', () => {
    expect(programSection(bare)).toEqual({ type, attachType, attachTo: undefined, flags, autoload: true });
    expect(programSection(`?${bare}`)?.autoload).toBe(false);
  });

  it(pattern.endsWith('+') ? 'takes a target after /' : 'matches only exactly', () => {
    const kind = programSection(`${bare}/some/target`);
    if (pattern.endsWith('+')) expect(kind).toMatchObject({ type, attachTo: 'some/target' });
    else expect(kind?.type === type && kind.attachType === attachType).toBe(false);
    expect(programSection(`${bare}x`)?.type === type && programSection(`${bare}x`)?.flags === flags).toBe(
      false,
    );
  });
});

describe('programSection', () => {
  it('has a row for every program type of the uapi', () => {
    const covered = new Set(sectionTable.map((row) => row[1].toUpperCase()));
    expect([...progTypes].filter((t) => t !== 'UNSPEC' && !covered.has(t))).toEqual([]);
  });

  it.each([
    ['xdp', { type: 'xdp', attachType: 'xdp', flags: 0 }],
    ['xdp.frags', { type: 'xdp', attachType: 'xdp', flags: ProgLoadFlags.XdpHasFrags }],
    ['xdp.frags/devmap', { type: 'xdp', attachType: 'xdp_devmap', flags: ProgLoadFlags.XdpHasFrags }],
    ['fentry.s/do_unlinkat', { type: 'tracing', attachType: 'trace_fentry', attachTo: 'do_unlinkat' }],
    ['tracepoint/syscalls/sys_enter_openat', { type: 'tracepoint', attachTo: 'syscalls/sys_enter_openat' }],
    ['uprobe//usr/lib/libc.so.6:malloc', { type: 'kprobe', attachTo: '/usr/lib/libc.so.6:malloc' }],
    ['syscall', { type: 'syscall', flags: ProgLoadFlags.Sleepable }],
    ['?tc', { type: 'sched_cls', autoload: false }],
    ['cgroup_skb/egress', { type: 'cgroup_skb', attachType: 'cgroup_inet_egress' }],
  ])('%s', (name, expected) => {
    expect(programSection(name)).toMatchObject(expected);
  });

  it.each(['kprobe_foo', 'xdp/foo', 'tracepointx/a', '', '?', 'sk_skb/unknown', '.text'])(
    'knows no program in %j',
    (name) => {
      expect(programSection(name)).toBeUndefined();
    },
  );
});
