/** `coll.attach()` and `coll.attachAll()`: object programs attached from their section names. */
import { openFdCount, requireKernel, thrown, VethPair } from '@ebpf/test-utils';
import { buildObject, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.ts';
import { XdpLink } from '../link/index.ts';
import { Collection } from './collection.ts';
import { CollectionSpec } from './spec.ts';

const scratch = new Scratch();
afterAll(() => scratch.dispose());
const spec = () => CollectionSpec.fromFile(buildObject(scratch, 'auto-attach', 'bpfel'));

/** Makes getppid() calls (Node's process.ppid asks the kernel each time). */
const callGetppid = (times: number) => {
  for (let i = 0; i < times; i++) process.ppid;
};

requireKernel('Collection auto-attach (kernel)', () => {
  it('attachAll attaches the tracepoint programs from their sections and they fire', () => {
    const before = openFdCount();
    {
      using coll = Collection.load(spec(), { programs: { pass: { load: false } } });
      const links = coll.attachAll();
      // The socket filter attaches to a socket, not from its section: left alone.
      expect(links).toHaveLength(2);
      callGetppid(5);
      expect(coll.variables.tracepoint_hits?.get()).toBeGreaterThanOrEqual(5n);
      expect(coll.variables.raw_tracepoint_hits?.get()).toBeGreaterThan(0n);
    }
    // Closing the collection closed its links too.
    expect(openFdCount()).toBe(before);
  });

  it('names the option a section needs, and attaches with it', () => {
    using coll = Collection.load(spec());
    const error = thrown(() => coll.attach('pass'));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(/program pass \(section 'xdp'\) needs the 'interface' option/);
    // attachAll is all or nothing: the xdp program's missing option undoes the others.
    const before = openFdCount();
    expect(() => coll.attachAll()).toThrow(/needs the 'interface' option/);
    expect(openFdCount()).toBe(before);
    using veth = new VethPair('aa');
    expect(coll.attach('pass', { interface: veth.b })).toBeInstanceOf(XdpLink);
    expect(() => coll.attach('nope')).toThrow(/has no loaded program nope/);
  });

  it('a taken link outlives the collection', () => {
    const coll = Collection.load(spec(), { programs: { pass: { load: false } } });
    using link = coll.attach('on_getppid', { take: true });
    coll.close();
    const info = link.info();
    expect(info.target).toMatch(/sys_enter_getppid/);
  });
});
