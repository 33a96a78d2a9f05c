/** `coll.attach()` and `coll.attachAll()`: object programs attached from their section names. */

import { existsSync } from 'node:fs';
import { openFdCount, requireKernel, skipUnsupported, thrown, VethPair } from '@ebpf/test-utils';
import { buildObject, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotSupportedError } from '../errors.ts';
import { KprobeLink, TracingLink, XdpLink } from '../link/index.ts';
import { syscallFunction } from '../link/kprobe.ts';
import { trampolinesRefused } from '../link/tracing.ts';
import type { BpfProgram } from '../program/program.ts';
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
    expect(() => coll.attach('devmap_entry', { interface: veth.b })).toThrow(/runs from devmap entries/);
  });

  it('a taken link outlives the collection', () => {
    const coll = Collection.load(spec(), { programs: { pass: { load: false } } });
    using link = coll.attach('on_getppid', { take: true });
    coll.close();
    const info = link.info();
    expect(info.target).toMatch(/sys_enter_getppid/);
  });

  describe('freplace/FUNCTION sections', () => {
    const replacement = () => CollectionSpec.fromFile(buildObject(scratch, 'freplace-replacement', 'bpfel'));
    const packet = new Uint8Array(64);
    let target: Collection;
    beforeAll(() => {
      target = Collection.load(buildObject(scratch, 'freplace-target', 'bpfel'));
    });
    afterAll(() => target?.close());
    const targetProgram = () => target.programs.calls_replaceable as BpfProgram;
    const refused = trampolinesRefused();

    it('leave a bare SEC("tc") program to attachAll\'s caller, as libbpf does', () => {
      expect(target.attachAll()).toEqual([]);
      expect(() => target.attach('calls_replaceable')).toThrow(/name it tcx\/ingress or tcx\/egress/);
    });

    it('name the option an ext program loads with, and the function a bare section lacks', () => {
      const before = openFdCount();
      const missing = thrown(() =>
        Collection.load(replacement(), { programs: { names_nothing: { load: false } } }),
      );
      expect(missing).toBeInstanceOf(InvalidArgumentError);
      expect(missing.message).toMatch(
        /program new_impl \(section freplace\/replaceable\): .*give programs\.new_impl\.target, the loaded program whose function replaceable this one replaces/,
      );
      const bare = thrown(() =>
        Collection.load(replacement(), {
          programs: { new_impl: { load: false }, names_nothing: { target: targetProgram() } },
        }),
      );
      expect(bare.message).toMatch(
        /section 'freplace' does not name the function it replaces: write it as freplace\/FUNCTION/,
      );
      expect(() => Collection.load(spec(), { programs: { pass: { target: targetProgram() } } })).toThrow(
        /programs\.pass\.target is for freplace \(ext\) programs; this one is a xdp program/,
      );
      expect(openFdCount()).toBe(before);
    });

    it.runIf(refused !== undefined)('name lockdown when the kernel refuses the replacement', () => {
      const load = () =>
        Collection.load(replacement(), {
          programs: { new_impl: { target: targetProgram() }, names_nothing: { load: false } },
        });
      expect(load).toThrow(NotSupportedError);
      expect(load).toThrow(/program new_impl .*refused by kernel lockdown/);
    });

    it.skipIf(skipUnsupported(refused, 'trampoline'))(
      'load against the target and attach from the section',
      () => {
        expect(targetProgram().run({ data: packet }).retval).toBe(2);
        {
          using coll = Collection.load(replacement(), {
            programs: { new_impl: { target: targetProgram() }, names_nothing: { load: false } },
          });
          const links = coll.attachAll();
          expect(links).toHaveLength(1);
          expect(links[0]).toBeInstanceOf(TracingLink);
          expect(targetProgram().run({ data: packet }).retval).toBe(7);
        }
        expect(targetProgram().run({ data: packet }).retval).toBe(2);
      },
    );
  });

  describe('probe sections', () => {
    const probes = () => CollectionSpec.fromFile(buildObject(scratch, 'auto-attach-probes', 'bpfel'));
    const noKprobePmu = existsSync('/sys/bus/event_source/devices/kprobe')
      ? undefined
      : 'kprobes: no kprobe PMU (CONFIG_KPROBES off)';

    it('attach a sleepable uprobe (uprobe.s/...) and one on a library by name, and attachAll leaves bare sections alone', () => {
      // Without kprobes the ksyscall program cannot attach: it stays unloaded there.
      using coll = Collection.load(
        probes(),
        noKprobePmu === undefined ? {} : { programs: { syscall_getppid: { load: false } } },
      );
      const links = coll.attachAll({ pid: process.pid });
      expect(links).toHaveLength(noKprobePmu === undefined ? 3 : 2);
      callGetppid(3);
      expect(coll.variables.sleepable_hits?.get()).toBe(3n);
      expect(coll.variables.libc_hits?.get()).toBe(3n);
      expect(() => coll.attach('manual_kprobe')).toThrow(/does not name a kernel function/);
    });

    it.runIf(noKprobePmu !== undefined)('name the missing kprobe PMU for ksyscall/NAME', () => {
      using coll = Collection.load(probes());
      expect(() => coll.attach('syscall_getppid')).toThrow(NotSupportedError);
      expect(() => coll.attach('syscall_getppid')).toThrow(/no kprobe PMU/);
    });

    it.skipIf(skipUnsupported(noKprobePmu, 'kprobe'))(
      'attach ksyscall/NAME as a kprobe on the syscall',
      () => {
        using coll = Collection.load(probes());
        const link = coll.attach('syscall_getppid');
        expect(link).toBeInstanceOf(KprobeLink);
        expect(link.info()).toMatchObject({ function: syscallFunction('getppid') });
      },
    );
  });
});
