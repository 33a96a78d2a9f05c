/**
 * The per-fd size cache when an fd is closed behind this package's back (`fs.closeSync`) and its
 * number reused by a map made by other native code: the hot paths cannot notice (any check is a
 * syscall, which would cost a third of a lookup), so `dup` and `adoptMap` ask the kernel.
 */
import { closeSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireKernel } from '@ebpf/test-utils';
import { afterAll, expect, it } from 'vitest';
import { adoptMap, dup, mapLookup, mapSizes, mapUpdate } from './index.ts';
import { type Native, packageRoot } from './native.ts';
import { Attr, buf, createMap, MapType, trackFds, u32 } from './test/helpers.ts';

const track = trackFds();
const scratch = mkdtempSync(join(tmpdir(), 'ebpf-sys-cache-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * A second, independent copy of the addon (loaded from another path, so with its own statics):
 * native code outside this package's size cache, as another addon would be.
 */
function foreignAddon(): Pick<Native, 'bpf'> {
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  const copy = join(scratch, 'foreign.node');
  copyFileSync(process.env.EBPF_SYS_NATIVE ?? nodeGypBuild.resolve(packageRoot), copy);
  return require(copy) as Pick<Native, 'bpf'>;
}

requireKernel('size cache: fd numbers reused behind its back', () => {
  it('dup and adoptMap take a reused fd number’s sizes from the kernel', () => {
    const fd = createMap(MapType.Hash, 4, 8, 16);
    expect(mapSizes(fd)).toEqual([MapType.Hash, 4, 8]);
    closeSync(fd); // behind @ebpf/sys's back: its entry for fd stays
    const attr = new Attr(96).u32(0, MapType.Hash).u32(4, 4).u32(8, 64).u32(12, 16);
    const reused = track(foreignAddon().bpf(0, attr.bytes, []));
    expect(reused).toBe(fd); // the kernel hands out the lowest free number
    // The documented limit: the hot paths still see the old sizes...
    expect(mapSizes(reused)).toEqual([MapType.Hash, 4, 8]);
    // ...but a dup (what @ebpf/core's fromFd does) asks the kernel,
    const copy = track(dup(reused));
    expect(mapSizes(copy)).toEqual([MapType.Hash, 4, 64]);
    expect(() => mapLookup(copy, u32(1), buf(8), 0)).toThrow(/64 bytes/);
    // and so does adoptMap on the number itself.
    adoptMap(reused);
    expect(mapSizes(reused)).toEqual([MapType.Hash, 4, 64]);
    mapUpdate(reused, u32(1), buf(64), 0);
    expect(mapLookup(copy, u32(1), buf(64), 0)).toBe(true);
  });

  it('dup of a map fd that is not in the cache adopts it; of another fd clears the entry', () => {
    const map = track(createMap(MapType.Array, 4, 24, 4));
    const copy = track(dup(map));
    expect(mapSizes(copy)).toEqual([MapType.Array, 4, 24]);
    const notAMap = track(dup(0));
    expect(mapSizes(notAMap)).toBeNull();
  });
});
