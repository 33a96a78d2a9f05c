import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { exit, mov64, R0 } from '@ebpf/asm';
import { openFdCount, requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { BpfProgram } from './program.ts';

const count = 20_000;
const bytecode = new Uint8Array([0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
const load = () => BpfProgram.load({ type: 'xdp', instructions: bytecode, license: 'GPL' });

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects garbage until the finalizers have closed what was dropped (or a second has passed). */
async function settle(target: number): Promise<void> {
  for (let i = 0; i < 100 && openFdCount() > target; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

requireKernel('program fd ownership', () => {
  it(`closes ${count} programs explicitly, through using and through the garbage collector`, {
    timeout: 300_000,
  }, async () => {
    expect(
      BpfProgram.load({ type: 'xdp', instructions: [mov64(R0, 2), exit()], license: 'GPL' }).run({
        data: new Uint8Array(64),
      }).retval,
    ).toBe(2);
    await settle(0);
    const start = openFdCount();

    for (let i = 0; i < count; i++) load().close();
    expect(openFdCount()).toBe(start);

    for (let i = 0; i < count; i++) {
      using prog = load();
      if (prog.closed) throw new Error('unreachable');
    }
    expect(openFdCount()).toBe(start);

    for (let i = 0; i < count; i++) {
      load();
      // Let the finalizers catch up every few thousand, as a long-running app would.
      if (i % 2000 === 1999) await settle(start);
    }
    await settle(start);
    expect(openFdCount()).toBe(start);

    // Clones and failed loads leak nothing either.
    for (let i = 0; i < 1000; i++) {
      using prog = load();
      prog.clone().close();
      try {
        BpfProgram.load({ type: 'xdp', instructions: [exit()], license: 'GPL' });
      } catch {
        // VerifierError, expected.
      }
    }
    expect(openFdCount()).toBe(start);
  });
});
