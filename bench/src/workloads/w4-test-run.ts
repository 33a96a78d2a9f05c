/**
 * W4 test run: XDP program `r0 = 2; exit` (GPL), 64-byte zero packet, no output buffer,
 * 100,000 BPF_PROG_TEST_RUN calls with repeat 1 per run, retval checked. Figure: ns per call.
 * The sys layer also prints the generic `bpf()` path (`W4.test_run.syscall.generic_bpf`).
 * Usage: w4-test-run.ts sys|core
 */
import type * as Core from '@ebpf/core';
import { buffer, check, landed, layerArg, measure, type Prepared } from '../harness.ts';
import { xdpPassProgram } from '../programs.ts';
import { floor, loadProgram } from '../sys-floor.ts';

const CALLS = 100_000;
const ID = 'W4.test_run.syscall';
const GENERIC_ID = 'W4.test_run.syscall.generic_bpf';

/**
 * The floor: `sys.progTestRun`, the dedicated entry point (sizes from the buffers, attr built on
 * the stack, outputs into a reused Uint32Array), with no output buffer. The generic checked
 * `bpf()` with an attr filled once is timed in the same process as
 * `W4.test_run.syscall.generic_bpf` (no C counterpart: context for what the entry point saves).
 */
async function sysLayer(): Promise<Prepared> {
  const f = await floor(['progTestRun']);
  if ('reason' in f) return f;
  const { sys, uapi } = f;
  const { bpf, progTestRun } = sys;
  const fd = loadProgram(f, uapi.ProgType.Xdp, xdpPassProgram());
  const packet = buffer(64);
  const result = new Uint32Array(4);
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
          for (let i = 0; i < CALLS; i++) {
            progTestRun(fd, packet, null, null, null, 1, 0, 0, 0, result);
            if (result[0] !== 2) check(false, 'retval');
          }
        },
      },
      {
        // The floor before @ebpf/sys had progTestRun.
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

/**
 * `prog.run({ data, dataOut })` with a reused zero-length `dataOut`: the API's way to pass no
 * output buffer (without one it would allocate a buffer per call for the output).
 */
async function coreLayer(): Promise<Prepared> {
  const core = await landed<typeof Core>('@ebpf/core', ['BpfProgram']);
  if ('reason' in core) return core;
  const prog = core.mod.BpfProgram.load({ type: 'xdp', instructions: xdpPassProgram(), license: 'GPL' });
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

const layer = layerArg(['sys', 'core']);
measure(
  layer,
  layer === 'sys' ? [ID, GENERIC_ID] : [ID],
  layer === 'sys' ? await sysLayer() : await coreLayer(),
);
