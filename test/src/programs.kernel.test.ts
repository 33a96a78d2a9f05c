import { rmSync } from 'node:fs';
import { add64, call, exit, ldxw, link, matchesTag, mov64, programTag, R0, R1, R2 } from '@ebpf/asm';
import { BpfMap, BpfProgram } from '@ebpf/core';
import { requireKernel, thrown } from '@ebpf/test-utils';
import { countingProgram } from '@ebpf/test-utils/programs';
import { afterAll, describe, expect, it } from 'vitest';

const XDP_PASS = 2;
const XDP_DROP = 1;
/** An Ethernet + IPv4 + UDP frame, 64 bytes. */
const packet = new Uint8Array(64).fill(0xab);

const pinDir = `/sys/fs/bpf/ebpf-e2e-programs-${process.pid}`;

requireKernel('BpfProgram, as a user of @ebpf/core sees it', () => {
  afterAll(() => rmSync(pinDir, { recursive: true, force: true }));

  describe('load', () => {
    it('instructions from @ebpf/asm with maps by name, test-run counts in the map', () => {
      using counts = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
      using prog = BpfProgram.load({
        type: 'xdp',
        name: 'e2e_count',
        license: 'GPL',
        instructions: countingProgram(XDP_DROP),
        maps: { counts },
      });
      const result = prog.run({ data: packet, repeat: 10 });
      expect(result.retval).toBe(XDP_DROP);
      expect(counts.get(0)).toBe(10n);
      expect(result.data).toEqual(packet);
      expect(result.duration).toBeGreaterThanOrEqual(0);
      expect(prog.info().mapIds).toContain(counts.info().id);
    });

    it('raw bytecode', () => {
      const bytes = new Uint8Array([0xb7, 0, 0, 0, XDP_PASS, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
      using prog = BpfProgram.load({ type: 'xdp', license: 'GPL', instructions: bytes });
      expect(prog.run({ data: packet }).retval).toBe(XDP_PASS);
    });

    it('an unknown map name is an InvalidArgumentError naming it', () => {
      const error = thrown(() =>
        BpfProgram.load({ type: 'xdp', license: 'GPL', instructions: countingProgram(1), maps: {} }),
      );
      expect(error.name).toBe('InvalidArgumentError');
      expect(error.message).toContain("'counts'");
    });

    it('bad options are InvalidArgumentErrors before the syscall', () => {
      const ok = [mov64(R0, 0), exit()];
      for (const options of [
        { type: 'no_such_type', license: 'GPL', instructions: ok },
        { type: 'xdp', license: '', instructions: ok },
        { type: 'xdp', license: 'GPL', instructions: [] },
        { type: 'xdp', license: 'GPL', instructions: new Uint8Array(7) },
        { type: 'xdp', license: 'GPL', instructions: ok, name: 'a name that is far too long' },
        { type: 'xdp', license: 'GPL', instructions: ok, logLevel: 99 },
      ]) {
        expect(thrown(() => BpfProgram.load(options as never)).name, JSON.stringify(options.type)).toBe(
          'InvalidArgumentError',
        );
      }
    });

    it('a verifier rejection is a VerifierError with the full log, the instruction and a summary', () => {
      const error = thrown(() =>
        BpfProgram.load({ type: 'xdp', license: 'GPL', name: 'bad', instructions: [mov64(R1, 0), exit()] }),
      );
      expect(error.name).toBe('VerifierError');
      expect(error.log).toMatch(/R0 !read_ok/);
      expect(error.instruction).toBe(1);
      expect(error.summary).toMatch(/R0 !read_ok/);
      expect(error.message).toMatch(/xdp.*"bad".*instruction 1.*R0 !read_ok/);
      expect(error.message.length).toBeLessThan(300);
    });

    it('a log bigger than the first buffer is fetched whole', () => {
      // 3000 instructions of straight-line code, then a bad exit: a log of ~100 KiB at level 2.
      const body = Array.from({ length: 3000 }, (_, i) => mov64(R1, i));
      const error = thrown(() =>
        BpfProgram.load({
          type: 'xdp',
          license: 'GPL',
          instructions: [...body, exit()],
          logLevel: 2,
          logSize: 1024,
        }),
      );
      expect(error.name).toBe('VerifierError');
      expect(error.log).toContain('2999: ');
      expect(error.log).toMatch(/R0 !read_ok/);
      expect(error.instruction).toBe(3000);
    });

    it('verifierLog when a log was asked for', () => {
      using prog = BpfProgram.load({
        type: 'xdp',
        license: 'GPL',
        instructions: [mov64(R0, 2), exit()],
        logLevel: 2,
      });
      expect(prog.verifierLog).toMatch(/processed 2 insns/);
      using quiet = BpfProgram.load({ type: 'xdp', license: 'GPL', instructions: [mov64(R0, 2), exit()] });
      expect(quiet.verifierLog).toBeUndefined();
    });
  });

  describe('run', () => {
    it('data, repeat, and the output buffer grows when the program grows the packet', () => {
      // bpf_xdp_adjust_head(ctx, -64): 64 more bytes in front of the packet.
      using prog = BpfProgram.load({
        type: 'xdp',
        license: 'GPL',
        instructions: [mov64(R2, -64), call('xdp_adjust_head'), mov64(R0, XDP_PASS), exit()],
      });
      const grown = prog.run({ data: packet });
      expect(grown.retval).toBe(XDP_PASS);
      expect(grown.data.length).toBe(packet.length + 64);
      expect(grown.data.subarray(64)).toEqual(packet);
      // A dataOut that is too small is replaced by one that fits.
      const small = prog.run({ data: packet, dataOut: new Uint8Array(packet.length) });
      expect(small.data.length).toBe(packet.length + 64);
      // A dataOut that fits is used as is.
      const out = new Uint8Array(4096);
      const reused = prog.run({ data: packet, dataOut: out });
      expect(reused.data.buffer).toBe(out.buffer);
      expect(reused.data.length).toBe(packet.length + 64);
    });

    it('context in and out (struct __sk_buff)', () => {
      // return skb->mark; skb->mark is at offset 8
      using prog = BpfProgram.load({
        type: 'sched_cls',
        license: 'GPL',
        instructions: [ldxw(R0, R1, 8), exit()],
      });
      const context = new Uint8Array(192);
      new DataView(context.buffer).setUint32(8, 77, true);
      const result = prog.run({ data: packet, context });
      expect(result.retval).toBe(77);
      expect(result.context).toBeInstanceOf(Uint8Array);
      expect(new DataView(result.context!.buffer, result.context!.byteOffset).getUint32(8, true)).toBe(77);
    });

    it('a program type without test runs is a NotSupportedError naming the type', () => {
      using prog = BpfProgram.load({
        type: 'cgroup_sock',
        license: 'GPL',
        instructions: [mov64(R0, 1), exit()],
      });
      const error = thrown(() => prog.run());
      expect(error.name).toBe('NotSupportedError');
      expect(String(error.feature)).toContain('cgroup_sock');
    });

    it('a packet program without a packet says what it needs', () => {
      using prog = BpfProgram.load({ type: 'xdp', license: 'GPL', instructions: [mov64(R0, 2), exit()] });
      const error = thrown(() => prog.run());
      expect(error.name).toBe('KernelRejectedError');
      expect(error.message).toMatch(/packet|data/);
      expect(thrown(() => prog.run({ data: 'x' as never })).name).toBe('InvalidArgumentError');
      expect(thrown(() => prog.run({ data: packet, repeat: -1 })).name).toBe('InvalidArgumentError');
    });

    it('benchmark() returns the time of one run', () => {
      using prog = BpfProgram.load({ type: 'xdp', license: 'GPL', instructions: [mov64(R0, 2), exit()] });
      const ns = prog.benchmark(packet, 10_000);
      expect(typeof ns).toBe('number');
      expect(ns).toBeGreaterThan(0);
      expect(ns).toBeLessThan(1_000_000);
    });
  });

  describe('identity', () => {
    it("info(): counts, and the tag is @ebpf/asm's tag of the same instructions", () => {
      const instructions = [mov64(R0, XDP_PASS), mov64(R1, 1), add64(R0, R1), add64(R0, -1), exit()];
      using prog = BpfProgram.load({ type: 'xdp', license: 'GPL', name: 'e2e_tag', instructions });
      const info = prog.info();
      expect(info.name).toBe('e2e_tag');
      expect(info.typeName).toBe('xdp');
      expect(info.xlatedInsns).toBeGreaterThanOrEqual(instructions.length);
      expect(info.jitedLen).toBeGreaterThan(0);
      expect(info.tag).toMatch(/^[0-9a-f]{16}$/);
      expect(matchesTag(instructions, info.tag)).toBe(true);
      expect([programTag(instructions, 'sha256'), programTag(instructions, 'sha1')]).toContain(info.tag);
    });

    it('the tag matches for programs with map references too', () => {
      using counts = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
      const instructions = link(countingProgram(XDP_PASS)).instructions;
      using prog = BpfProgram.load({ type: 'xdp', license: 'GPL', instructions, maps: { counts } });
      expect(matchesTag(instructions, prog.info().tag)).toBe(true);
    });

    it('pin, fromPin, fromId, fromFd, clone, list', () => {
      using prog = BpfProgram.load({
        type: 'xdp',
        license: 'GPL',
        name: 'e2e_ident',
        instructions: [mov64(R0, 2), exit()],
      });
      const id = prog.info().id;
      const path = `${pinDir}/prog`;
      prog.pin(path);
      using pinned = BpfProgram.fromPin(path);
      using byId = BpfProgram.fromId(id);
      using byFd = BpfProgram.fromFd(prog.fd);
      using clone = prog.clone();
      for (const other of [pinned, byId, byFd, clone]) {
        expect(other.info().id).toBe(id);
        expect(other.name).toBe('e2e_ident');
        expect(other.fd).not.toBe(prog.fd);
      }
      expect(BpfProgram.ids()).toContain(id);
      expect(BpfProgram.list().find((p) => p.id === id)?.name).toBe('e2e_ident');
      expect(prog.unpin(path)).toBe(true);
      expect(thrown(() => BpfProgram.fromPin(path)).name).toBe('NotFoundError');
      expect(thrown(() => BpfProgram.fromId(0x7ffffff0)).name).toBe('NotFoundError');
    });

    it('fromFd of a map fd is a clear error', () => {
      using map = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
      expect(thrown(() => BpfProgram.fromFd(map.fd)).name).toBe('InvalidArgumentError');
    });

    it('bindMap ties a map to the program', () => {
      using prog = BpfProgram.load({ type: 'xdp', license: 'GPL', instructions: [mov64(R0, 2), exit()] });
      const map = BpfMap.create({
        type: 'array',
        keySize: 4,
        valueSize: 4,
        maxEntries: 1,
        name: 'e2e_bound',
      });
      const mapId = map.info().id;
      prog.bindMap(map);
      map.close();
      expect(prog.info().mapIds).toContain(mapId);
      expect(BpfMap.list().some((m) => m.id === mapId)).toBe(true);
    });

    it('closed programs throw ClosedError', () => {
      const prog = BpfProgram.load({ type: 'xdp', license: 'GPL', instructions: [mov64(R0, 2), exit()] });
      prog.close();
      prog.close();
      expect(thrown(() => prog.run({ data: packet })).name).toBe('ClosedError');
      expect(thrown(() => prog.info()).name).toBe('ClosedError');
      expect(thrown(() => prog.pin(`${pinDir}/closed`)).name).toBe('ClosedError');
    });
  });
});
