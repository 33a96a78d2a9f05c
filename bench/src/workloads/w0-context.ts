/**
 * W0 context: the bare native-call floor, `sys.noop` (a native no-op with the same argument
 * handling as the `bpf()` binding), 65,536 calls per run. C calls getppid() for comparison.
 */
import { ALL_RUNS, buffer, check, landed, layerArg, notAvailable, Runs } from '../harness.ts';

const N = 65_536;
const ids = ['W0.context'];
const layer = layerArg(['sys']);
const sys = await landed<{ noop: (...args: unknown[]) => unknown }>('@ebpf/sys', ['noop']);
if ('reason' in sys) notAvailable(layer, ids, sys.reason);
else {
  const { noop } = sys.mod;
  const attr = buffer(32);
  const runs = new Runs(layer, 'W0.context', 'ns/op', N);
  for (let run = 0; run < ALL_RUNS; run++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) noop(0, attr, null);
    const t1 = process.hrtime.bigint();
    runs.record(run, t0, t1);
  }
  check(true, 'noop');
  runs.emit();
}
