/**
 * W4 test run: XDP program `r0 = 2; exit` (GPL), 64-byte zero packet, no output buffer,
 * 100,000 BPF_PROG_TEST_RUN calls with repeat 1 per run, retval checked. Figure: ns per call.
 * Usage: w4-test-run.ts sys|core
 */
import type * as Core from '@ebpf/core';
import { buffer, check, landed, layerArg, measure, type Prepared } from '../harness.ts';
import { xdpPassProgram } from '../programs.ts';
import { floor, loadProgram } from '../sys-floor.ts';

const CALLS = 100_000;
const ID = 'W4.test_run.syscall';

async function sysLayer(): Promise<Prepared> {
  const f = await floor();
  if ('reason' in f) return f;
  const { sys, uapi } = f;
  const { bpf } = sys;
  const cmd = uapi.Cmd.ProgTestRun;
  const fd = loadProgram(f, uapi.ProgType.Xdp, xdpPassProgram());
  const packet = buffer(64);
  // The floor fills the attr once: the kernel only writes outputs (retval, duration, sizes) back.
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
measure(layer, [ID], layer === 'sys' ? await sysLayer() : await coreLayer());
