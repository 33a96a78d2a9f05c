/**
 * W0 context: the bare native-call floor, `sys.noop` (a native no-op with the same argument
 * handling as `sys.mapLookup`), 65,536 calls per run. C calls getppid() for comparison.
 */
import { buffer, check, layerArg, measure, type Prepared } from '../harness.ts';
import { createMap, floor } from '../sys-floor.ts';

const N = 65_536;
const ID = 'W0.context';

async function sysLayer(): Promise<Prepared> {
  const f = await floor(['noop']);
  if ('reason' in f) return f;
  const { noop } = f.sys;
  // noop does mapLookup's argument handling (fd and size cache, key, value, flags): give it a map.
  const fd = createMap(f, f.uapi.MapType.Hash, 4, 8, 16);
  const key = buffer(4);
  const value = buffer(8);
  return {
    timed: [
      {
        id: ID,
        unit: 'ns/op',
        ops: N,
        loop() {
          let ok = 0;
          for (let i = 0; i < N; i++) if (noop(fd, key, value, 0)) ok++;
          check(ok === N || ok === 0, `noop returned ${ok} times true`);
        },
      },
    ],
  };
}

measure(layerArg(['sys']), [ID], await sysLayer());
