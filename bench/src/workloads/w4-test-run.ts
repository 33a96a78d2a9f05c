/**
 * W4 test run: XDP program `r0 = 2; exit` (GPL), 64-byte zero packet, no output buffer,
 * 100,000 BPF_PROG_TEST_RUN calls with repeat 1 per run, retval checked. Figure: ns per call.
 * The sys layer also prints the generic `bpf()` path (`W4.test_run.syscall.generic_bpf`).
 * Usage: w4-test-run.ts sys|core|core-run
 */
import type * as Core from '@ebpf/core';
import { buffer, check, landed, layerArg, measure, type Prepared } from '../harness.ts';
import { xdpPassProgram } from '../programs.ts';
import { floor, loadProgram } from '../sys-floor.ts';

const CALLS = 100_000;
const ID = 'W4.test_run.syscall';
const GENERIC_ID = 'W4.test_run.syscall.generic_bpf';

/**
 * The floor: a `sys.testRunner` prepared with the packet in its memory, so each call is one
 * argument-less native call and the syscall. The generic checked `bpf()` with an attr filled
 * once is timed in the same process as `W4.test_run.syscall.generic_bpf` (no C counterpart:
 * context for what the runner saves).
 */
async function sysLayer(): Promise<Prepared> {
  const f = await floor(['testRunner']);
  if ('reason' in f) return f;
  const { sys, uapi } = f;
  const { bpf, TestRunSlot } = sys;
  const fd = loadProgram(f, uapi.ProgType.Xdp, xdpPassProgram());
  const runner = sys.testRunner(fd, { dataIn: 64 });
  runner.header[TestRunSlot.DataSizeIn] = 64;
  runner.header[TestRunSlot.Repeat] = 1;
  const { run } = runner;
  const packet = buffer(64);
  const cmd = uapi.Cmd.ProgTestRun;
  // The kernel only writes outputs (retval, duration, sizes) back: the attr is filled once.
  const a = new uapi.AttrBuffer(uapi.TestRunAttr);
  a.u32('progFd', fd).pointer('dataIn', packet).u32('dataSizeIn', 64).u32('repeat', 1);
  return {
    timed: [
      {
        id: ID,
        unit: 'ns/op',
        ops: CALLS,
        loop() {
          for (let i = 0; i < CALLS; i++) if (run() !== 2) check(false, 'retval');
        },
      },
      {
        // The floor before @ebpf/sys had test runners.
        id: GENERIC_ID,
        unit: 'ns/op',
        ops: CALLS,
        loop() {
          for (let i = 0; i < CALLS; i++) {
            bpf(cmd, a.bytes, a.pointers);
            if (a.getU32('retval') !== 2) check(false, 'retval');
          }
        },
      },
    ],
  };
}

/** The core program, loaded through the public API. */
async function loadCore(): Promise<Core.BpfProgram | { reason: string }> {
  const core = await landed<typeof Core>('@ebpf/core', ['BpfProgram']);
  if ('reason' in core) return core;
  return core.mod.BpfProgram.load({ type: 'xdp', instructions: xdpPassProgram(), license: 'GPL' });
}

/** `prog.testRunner({ dataSize: 64 })` with the packet in it: the API for run loops. */
async function coreLayer(): Promise<Prepared> {
  const prog = await loadCore();
  if ('reason' in prog) return prog;
  const runner = prog.testRunner({ dataSize: 64, repeat: 1 });
  return {
    timed: [
      {
        id: ID,
        unit: 'ns/op',
        ops: CALLS,
        loop() {
          for (let i = 0; i < CALLS; i++) if (runner.run() !== 2) check(false, 'retval');
        },
      },
    ],
  };
}

/**
 * `prog.run({ data, dataOut })` with a reused zero-length `dataOut`: the API's way to pass no
 * output buffer (without one it would copy the output into a new buffer per call). Each call
 * copies the packet into the program's runner and returns a new result object: shown for
 * information next to the runner.
 */
async function coreRunLayer(): Promise<Prepared> {
  const prog = await loadCore();
  if ('reason' in prog) return prog;
  const options = { data: buffer(64), dataOut: buffer(0) };
  return {
    timed: [
      {
        id: ID,
        unit: 'ns/op',
        ops: CALLS,
        loop() {
          for (let i = 0; i < CALLS; i++) if (prog.run(options).retval !== 2) check(false, 'retval');
        },
      },
    ],
  };
}

const layer = layerArg(['sys', 'core', 'core-run']);
measure(
  layer,
  layer === 'sys' ? [ID, GENERIC_ID] : [ID],
  layer === 'sys' ? await sysLayer() : layer === 'core' ? await coreLayer() : await coreRunLayer(),
);
