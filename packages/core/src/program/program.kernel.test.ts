import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { add64, call, exit, ldxdw, ldxw, mov64, programTag, R0, R1, R2, stxw } from '@ebpf/asm';
import { requireKernel, thrown } from '@ebpf/test-utils';
import { countingProgram } from '@ebpf/test-utils/programs';
import { ProgLoadFlags, ProgType, XdpAction } from '@ebpf/uapi';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ClosedError,
  InvalidArgumentError,
  KernelRejectedError,
  NotFoundError,
  NotSupportedError,
} from '../errors.ts';
import { BpfMap } from '../map/index.ts';
import { ensureBpffs } from '../pin.ts';
import { kernelFunctionId } from './kernel-btf.ts';
import { BpfProgram } from './program.ts';
import { VerifierError } from './verifier-error.ts';

const pass = [mov64(R0, XdpAction.Pass), exit()];
const packet = new Uint8Array(64).map((_, i) => i);

requireKernel('BpfProgram', () => {
  const pinDir = `/sys/fs/bpf/ebpf-core-program-test-${process.pid}`;
  afterAll(() => rmSync(pinDir, { recursive: true, force: true }));

  describe('load', () => {
    it('loads an XDP program given by type name and runs it', () => {
      using prog = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL', name: 'pass' });
      expect(prog.type).toBe(ProgType.Xdp);
      expect(prog.typeName).toBe('xdp');
      expect(prog.verifierLog).toBeUndefined();
      const result = prog.run({ data: packet });
      expect(result.retval).toBe(XdpAction.Pass);
      expect([...result.data]).toEqual([...packet]);
    });

    it('takes the type as a ProgType value and the program as raw bytecode', () => {
      const bytecode = new Uint8Array([0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
      using prog = BpfProgram.load({ type: ProgType.SocketFilter, instructions: bytecode, license: 'MIT' });
      expect(prog.typeName).toBe('socket_filter');
      expect(prog.run({ data: packet }).retval).toBe(1);
    });

    it('returns the verifier log when a log level is asked for', () => {
      using prog = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL', logLevel: 2 });
      expect(prog.verifierLog).toContain('(b7) r0 = 2');
      expect(prog.verifierLog).toMatch(/processed 2 insns/);
    });

    it('grows a small log buffer until the whole log fits', () => {
      const long = [...Array.from({ length: 400 }, () => add64(R0, 1)), exit()];
      using prog = BpfProgram.load({
        type: 'xdp',
        instructions: [mov64(R0, 0), ...long],
        license: 'GPL',
        logLevel: 2,
        logSize: 200,
      });
      expect(prog.verifierLog?.length).toBeGreaterThan(10_000);
      expect(prog.verifierLog).toMatch(/^func#0 @0/);
      expect(prog.verifierLog).toMatch(/processed 402 insns/);
    });

    it('throws VerifierError with the log, the instruction and a summary when the verifier rejects', () => {
      const error = thrown(() =>
        BpfProgram.load({ type: 'xdp', instructions: [exit()], license: 'GPL', name: 'bad' }),
      );
      expect(error).toBeInstanceOf(VerifierError);
      const v = error;
      expect(v.instruction).toBe(0);
      expect(v.summary).toBe('R0 !read_ok');
      expect(v.log).toContain('0: (95) exit');
      expect(v.log).toContain('R0 !read_ok');
      expect(v.message).toBe('verifier rejected xdp program "bad" at instruction 0 (exit): R0 !read_ok');
      expect(v.code).toBe('EACCES');
    });

    it('points at the failing instruction of an out-of-bounds packet read', () => {
      const error = thrown(() =>
        BpfProgram.load({
          type: 'xdp',
          instructions: [ldxw(R2, R1, 0), ldxw(R0, R2, 0), mov64(R0, 2), exit()],
          license: 'GPL',
        }),
      );
      expect(error).toBeInstanceOf(VerifierError);
      expect(error.instruction).toBe(1);
      expect(error.summary).toMatch(/^invalid access to packet/);
      expect(error.message).toMatch(/at instruction 1 \(r0 = \*\(u32 \*\)\(r2 \+0\)\)/);
    });

    it('gives the whole log of a rejection even when it needs a big buffer', () => {
      const long = Array.from({ length: 3000 }, () => add64(R0, 1));
      const error = thrown(() =>
        BpfProgram.load({
          type: 'xdp',
          instructions: [mov64(R0, 0), ...long, ldxw(R0, R2, 0), exit()],
          license: 'GPL',
          logLevel: 2,
          logSize: 1024,
        }),
      );
      expect(error).toBeInstanceOf(VerifierError);
      expect(error.instruction).toBe(3001);
      expect(error.log).toMatch(/^func#0 @0/);
      expect(String(error.log).length).toBeGreaterThan(100_000);
    });

    it('says which helper a program type may not call', () => {
      const error = thrown(() =>
        BpfProgram.load({
          type: 'socket_filter',
          instructions: [call('xdp_adjust_head'), mov64(R0, 0), exit()],
          license: 'GPL',
        }),
      );
      expect(error).toBeInstanceOf(VerifierError);
      expect(error.summary).toBe('program of this type cannot use helper bpf_xdp_adjust_head#44');
    });

    it('resolves map references by name', () => {
      using counts = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
      using prog = BpfProgram.load({
        type: 'xdp',
        instructions: counterProgram(),
        license: 'GPL',
        maps: { counts },
      });
      prog.run({ data: packet, repeat: 5 });
      expect(prog.info().mapIds).toEqual([counts.info().id]);
    });

    it('rejects bad options before the kernel sees them', () => {
      const base = { type: 'xdp' as const, instructions: pass, license: 'GPL' };
      expect(() => BpfProgram.load({ ...base, type: 'nope' as never })).toThrow(
        /unknown program type 'nope'/,
      );
      expect(() => BpfProgram.load({ ...base, instructions: [] })).toThrow(InvalidArgumentError);
      expect(() => BpfProgram.load({ ...base, instructions: new Uint8Array(12) })).toThrow(
        /multiple of 8 bytes/,
      );
      expect(() => BpfProgram.load({ ...base, license: '' })).toThrow(/license/);
      expect(() => BpfProgram.load({ ...base, name: 'a name with spaces' })).toThrow(/name must be/);
      expect(() => BpfProgram.load({ ...base, logLevel: 9 as never })).toThrow(/logLevel/);
      expect(() => BpfProgram.load({ ...base, instructions: counterProgram() })).toThrow(
        /refers to map 'counts', which is not in maps/,
      );
      expect(() => BpfProgram.load({ ...base, type: 'cgroup_sock_addr' })).toThrow(/need an attachType/);
    });

    it('loads program types that need an expected attach type', () => {
      using prog = BpfProgram.load({
        type: 'cgroup_sock_addr',
        attachType: 'cgroup_inet4_connect',
        instructions: [mov64(R0, 1), exit()],
        license: 'GPL',
      });
      expect(prog.attachType).toBeGreaterThan(0);
    });

    it('finds the kernel function a tracing program attaches to by name', () => {
      expect(kernelFunctionId('do_unlinkat')).toBeGreaterThan(0);
      expect(() => kernelFunctionId('no_such_function_anywhere')).toThrow(NotFoundError);
      const error = thrown(() =>
        BpfProgram.load({
          type: 'tracing',
          attachType: 'trace_fexit',
          attachTo: 'do_unlinkat',
          instructions: [mov64(R0, 0), exit()],
          license: 'GPL',
        }),
      );
      // Under lockdown the kernel refuses before looking; elsewhere the verifier accepts it.
      if (error instanceof NotSupportedError) expect(error.feature).toBe('fexit');
      else expect(error).toBeUndefined();
    });

    it('maps fentry refused by kernel lockdown to NotSupportedError', () => {
      const error = thrown(() =>
        BpfProgram.load({
          type: 'tracing',
          attachType: 'trace_fentry',
          attachTo: 1,
          instructions: [mov64(R0, 0), exit()],
          license: 'GPL',
        }),
      );
      expect(error).toBeInstanceOf(NotSupportedError);
      expect(error.feature).toBe('fentry');
      expect(error.reason).toMatch(/lockdown|EPERM/);
    });
  });

  describe('run', () => {
    it('reuses a caller-provided output buffer', () => {
      using prog = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL' });
      const out = new Uint8Array(2048);
      const result = prog.run({ data: packet, dataOut: out });
      expect(result.data.buffer).toBe(out.buffer);
      expect(result.data.length).toBe(packet.length);
    });

    it('grows the output when the program makes the packet bigger than dataOut', () => {
      // bpf_xdp_adjust_head(ctx, -16): 16 more bytes in front.
      using prog = BpfProgram.load({
        type: 'xdp',
        instructions: [mov64(R2, -16), call('xdp_adjust_head'), mov64(R0, XdpAction.Pass), exit()],
        license: 'GPL',
      });
      const small = new Uint8Array(packet.length);
      const result = prog.run({ data: packet, dataOut: small });
      expect(result.data.length).toBe(packet.length + 16);
      expect([...result.data.subarray(16)]).toEqual([...packet]);
      expect(prog.run({ data: packet }).data.length).toBe(packet.length + 16);
    });

    it('gives every run its own input and output, whatever sizes come and go', () => {
      using prog = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL' });
      const results = [64, 1500, 14, 600, 64].map((length, i) => {
        const data = new Uint8Array(length).fill(i + 1);
        const result = prog.run({ data });
        expect(result.data).toEqual(data);
        return result;
      });
      // Earlier results are copies, not views of memory a later run rewrote.
      expect(results.map((r) => [r.data.length, r.data[0]])).toEqual([
        [64, 1],
        [1500, 2],
        [14, 3],
        [600, 4],
        [64, 5],
      ]);
      // A changed packet in the same buffer is what the next run sees.
      const data = new Uint8Array(64);
      const out = new Uint8Array(64);
      for (const byte of [7, 8]) {
        data.fill(byte);
        expect(prog.run({ data, dataOut: out }).data.every((b) => b === byte)).toBe(true);
      }
    });

    it('repeats and measures', () => {
      using prog = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL' });
      const result = prog.run({ data: packet, repeat: 1000 });
      expect(result.retval).toBe(XdpAction.Pass);
      expect(result.duration).toBeGreaterThanOrEqual(0);
      expect(prog.benchmark(packet, 10_000)).toBeGreaterThanOrEqual(0);
    });

    it('passes a context in and out', () => {
      // socket filter: return skb->len (context field 0), given a __sk_buff context
      using prog = BpfProgram.load({
        type: 'sched_cls',
        instructions: [ldxw(R0, R1, 0), exit()],
        license: 'GPL',
      });
      const context = new Uint8Array(192);
      const result = prog.run({ data: packet, context });
      expect(result.retval).toBe(packet.length);
      expect(result.context?.length).toBe(192);
    });

    it('runs on the CPU it is asked for', () => {
      // raw tracepoint programs can be test-run on a chosen CPU; this one returns the CPU it ran on
      using prog = BpfProgram.load({
        type: 'raw_tracepoint',
        instructions: [call('get_smp_processor_id'), exit()],
        license: 'GPL',
      });
      const last = availableParallelism() - 1;
      expect(prog.run({ cpu: last }).retval).toBe(last);
      expect(prog.run({ cpu: 0 }).retval).toBe(0);
    });

    it('runs a raw tracepoint on a context, which the kernel does not copy back', () => {
      // The program returns the first u64 of its arguments.
      using prog = BpfProgram.load({
        type: 'raw_tracepoint',
        instructions: [ldxdw(R0, R1, 0), exit()],
        license: 'GPL',
      });
      const args = new Uint8Array(16);
      args[0] = 42;
      const result = prog.run({ context: args, repeat: 1 });
      expect(result.retval).toBe(42);
      expect(result.context).toBeUndefined();
      const runner = prog.testRunner({ contextSize: 16 });
      runner.context.set(args);
      expect(runner.run()).toBe(42);
      expect(() => prog.run({ context: args, repeat: 5 })).toThrow(
        /runs raw_tracepoint programs once per test run/,
      );
    });

    it('returns the context a syscall program wrote, which the kernel puts back in the input', () => {
      using prog = BpfProgram.load({
        type: 'syscall',
        instructions: [ldxw(R2, R1, 0), add64(R2, 1), stxw(R1, 4, R2), mov64(R0, 7), exit()],
        license: 'GPL',
        flags: ProgLoadFlags.Sleepable,
      });
      const context = new Uint8Array(8);
      context[0] = 9;
      const result = prog.run({ context });
      expect(result.retval).toBe(7);
      expect([...(result.context ?? [])]).toEqual([9, 0, 0, 0, 10, 0, 0, 0]);
      expect(context[4]).toBe(0); // the caller's buffer is not the kernel's
      const runner = prog.testRunner({ contextSize: 8 });
      runner.context.set([1, 0, 0, 0]);
      expect(runner.run()).toBe(7);
      expect([...runner.contextOut.subarray(0, runner.contextOutLength)]).toEqual([1, 0, 0, 0, 2, 0, 0, 0]);
    });

    it('says which types can choose a CPU', () => {
      using prog = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL' });
      expect(() => prog.run({ data: packet, cpu: 0 })).toThrow(
        /only raw_tracepoint test runs can choose a CPU/,
      );
      expect(() => prog.testRunner({ dataSize: 14, cpu: 0 })).toThrow(InvalidArgumentError);
    });

    it('asks for a packet when a packet program runs without one', () => {
      using prog = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL' });
      expect(() => prog.run()).toThrow(/wants a packet in data/);
      expect(() => prog.run({ data: 'x' as never })).toThrow(InvalidArgumentError);
      expect(() => prog.run({ data: packet, repeat: -1 })).toThrow(/repeat must be/);
      expect(() => prog.run({ data: packet, flags: 2 ** 32 })).toThrow(/flags must be/);
      expect(() => prog.run({ data: packet, cpu: -1 })).toThrow(/cpu must be/);
    });

    it('reports program types without test runs as not supported', () => {
      using prog = BpfProgram.load({
        type: 'tracepoint',
        instructions: [mov64(R0, 0), exit()],
        license: 'GPL',
      });
      const error = thrown(() => prog.run());
      expect(error).toBeInstanceOf(NotSupportedError);
      expect((error as Error).message).toMatch(/tracepoint/);
    });
  });

  describe('testRunner', () => {
    it('runs many times from its own memory, with the packet length it is given', () => {
      using prog = BpfProgram.load({
        type: 'sched_cls',
        instructions: [ldxw(R0, R1, 0), exit()], // return skb->len
        license: 'GPL',
      });
      const runner = prog.testRunner({ dataSize: 64 });
      expect(runner.data.length).toBe(64);
      expect(runner.dataLength).toBe(64);
      for (let i = 0; i < 1000; i++) expect(runner.run()).toBe(64);
      runner.dataLength = 20;
      expect(runner.run()).toBe(20);
      expect(() => {
        runner.dataLength = 65;
      }).toThrow(/dataLength must be an integer from 0 to 64/);
    });

    it('returns the output packet, context and duration without allocating results', () => {
      using prog = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL' });
      const runner = prog.testRunner({ dataSize: 64, dataOutSize: 128, contextSize: 24, repeat: 100 });
      runner.data.set(packet);
      new DataView(runner.context.buffer, runner.context.byteOffset).setUint32(4, 64, true); // data_end
      expect(runner.run()).toBe(XdpAction.Pass);
      expect(runner.dataOutLength).toBe(64);
      expect([...runner.dataOut.subarray(0, runner.dataOutLength)]).toEqual([...packet]);
      expect(runner.contextOutLength).toBe(24);
      expect(runner.duration).toBeGreaterThanOrEqual(0);
    });

    it('names the room a growing program needs', () => {
      using prog = BpfProgram.load({
        type: 'xdp',
        instructions: [mov64(R2, -16), call('xdp_adjust_head'), mov64(R0, XdpAction.Pass), exit()],
        license: 'GPL',
      });
      const runner = prog.testRunner({ dataSize: 64, dataOutSize: 64 });
      const error = thrown(() => runner.run());
      expect(error).toBeInstanceOf(KernelRejectedError);
      expect(error.code).toBe('ENOSPC');
      expect((error as Error).message).toMatch(
        /produced 80 bytes of output packet.*dataOutSize of at least 80/,
      );
      expect(prog.testRunner({ dataSize: 64, dataOutSize: 80 }).run()).toBe(XdpAction.Pass);
    });

    it('refuses bad options, closed programs and types without test runs', () => {
      const prog = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL' });
      expect(() => prog.testRunner({ dataSize: -1 })).toThrow(/dataSize must be an integer/);
      expect(() => prog.testRunner({ contextSize: 2 ** 31 })).toThrow(/contextSize/);
      expect(() => prog.testRunner({ repeat: 1.5 })).toThrow(/repeat must be/);
      expect(() => prog.testRunner({ flags: -1 })).toThrow(/flags must be/);
      expect(() => prog.testRunner().run()).toThrow(/wants a packet in data/);
      const runner = prog.testRunner({ dataSize: 64 });
      prog.close();
      expect(() => runner.run()).toThrow(ClosedError);
      expect(() => prog.testRunner()).toThrow(ClosedError);
      using tracepoint = BpfProgram.load({
        type: 'tracepoint',
        instructions: [mov64(R0, 0), exit()],
        license: 'GPL',
      });
      expect(thrown(() => tracepoint.testRunner().run())).toBeInstanceOf(NotSupportedError);
    });
  });

  describe('info and identity', () => {
    it('reports what the kernel knows, with the tag @ebpf/asm computes', () => {
      const instructions = [mov64(R0, XdpAction.Drop), exit()];
      using prog = BpfProgram.load({ type: 'xdp', instructions, license: 'GPL', name: 'infotest' });
      const info = prog.info();
      expect(info.name).toBe('infotest');
      expect(info.type).toBe(ProgType.Xdp);
      expect(info.typeName).toBe('xdp');
      expect(info.tag).toBe(programTag(instructions));
      expect(info.id).toBeGreaterThan(0);
      expect(info.xlatedInsns).toBeGreaterThanOrEqual(2);
      expect(info.verifiedInsns).toBe(2);
      expect(info.jited).toBe(info.jitedLen > 0);
      expect(Math.abs(info.loadedAt.getTime() - Date.now())).toBeLessThan(60_000);
      expect(info.mapIds).toEqual([]);
      expect(prog.xlated().length).toBe(info.xlatedInsns);
      expect(prog.jited().length).toBe(info.jitedLen);
    });

    it('opens programs by id, fd and pin, clones them, and lists them all', () => {
      ensureBpffs();
      using prog = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL', name: 'ident' });
      const id = prog.info().id;
      using byId = BpfProgram.fromId(id);
      expect(byId.info().id).toBe(id);
      expect(byId.typeName).toBe('xdp');
      expect(byId.name).toBe('ident');
      using byFd = BpfProgram.fromFd(prog.fd);
      expect(byFd.fd).not.toBe(prog.fd);
      expect(byFd.info().id).toBe(id);
      using clone = prog.clone();
      expect(clone.info().id).toBe(id);
      const path = `${pinDir}/prog`;
      prog.pin(path);
      using pinned = BpfProgram.fromPin(path);
      expect(pinned.info().id).toBe(id);
      expect(prog.unpin(path)).toBe(true);
      expect(() => BpfProgram.fromPin(path)).toThrow(NotFoundError);
      expect(BpfProgram.list().some((p) => p.id === id && p.name === 'ident')).toBe(true);
      expect(BpfProgram.ids()).toContain(id);
    });

    it('throws for closed programs, unknown ids and fds that are not programs', () => {
      const prog = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL' });
      const id = prog.info().id;
      prog.close();
      prog.close();
      expect(prog.closed).toBe(true);
      expect(() => prog.run({ data: packet })).toThrow(ClosedError);
      expect(() => prog.info()).toThrow(ClosedError);
      expect(() => BpfProgram.fromId(id)).toThrow(NotFoundError);
      expect(() => BpfProgram.fromFd(0)).toThrow(/not a program|not a BPF object/);
      using map = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
      expect(() => BpfProgram.fromFd(map.fd)).toThrow(/a BPF map, not a program/);
    });

    it('counts runs while statistics are enabled', () => {
      using prog = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL' });
      {
        using _stats = BpfProgram.enableStats();
        prog.run({ data: packet, repeat: 10 });
      }
      const info = prog.info();
      expect(info.runCnt).toBeGreaterThanOrEqual(10n);
      expect(info.runTimeNs).toBeGreaterThan(0n);
    });

    it('binds a map the program does not use', () => {
      using prog = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL' });
      using map = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
      prog.bindMap(map);
      expect(prog.info().mapIds).toEqual([map.info().id]);
    });
  });
});

/** counts[0] += 1 for every packet, then XDP_PASS. */
const counterProgram = () => countingProgram(XdpAction.Pass);
