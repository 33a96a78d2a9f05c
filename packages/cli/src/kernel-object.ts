/**
 * `ebpf object load`: an object's maps and programs created in the kernel through
 * `Collection.load`, then pinned, or closed again (a check that it loads). Imported only by
 * that command (it loads the native binding).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Collection, type PinnableObject } from '@ebpf/core';
import { readObject } from './object-summary.ts';

/** A map or program the load made, with its kernel id and pin. */
export interface LoadedItem {
  name: string;
  id: number;
  type: string;
  /** Where it is pinned; absent when nothing keeps it past the command. */
  pin?: string;
}

export interface LoadedObject {
  programs: LoadedItem[];
  maps: LoadedItem[];
}

/**
 * Loads the object at `path`. With `pinDir`, each program is pinned at `pinDir/<name>` and each
 * map at `pinDir/maps/<name>` (dots made `_`: bpffs refuses names like `.data`; maps declared `LIBBPF_PIN_BY_NAME` are reused from there when
 * pinned already), so they outlive the command; otherwise everything is closed on return.
 */
export function loadObject(path: string, pinDir: string | undefined): LoadedObject {
  const spec = readObject(path);
  const dir = pinDir === undefined ? undefined : resolve(pinDir);
  const mapDir = dir && join(dir, 'maps');
  if (mapDir) mkdirSync(mapDir, { recursive: true });
  using coll = Collection.load(spec, mapDir ? { pinPath: mapDir } : {});
  const pinned: PinnableObject[] = [];
  const pin = (object: PinnableObject, at: string | undefined): string | undefined => {
    if (at === undefined) return undefined;
    object.pin(at);
    pinned.push(object);
    return at;
  };
  try {
    const programs = Object.entries(coll.programs).map(([name, p]) => ({
      name,
      id: p.info().id,
      type: p.typeName,
      ...optionalPin(pin(p, dir && join(dir, name))),
    }));
    const maps = Object.entries(coll.maps).map(([name, m]) => ({
      name,
      id: m.info().id,
      type: m.typeName,
      // A by-name map is pinned (or was reused) by the load itself.
      ...optionalPin(
        spec.maps[name]?.pinning === 'by_name'
          ? mapDir && join(mapDir, name)
          : pin(m, mapDir && join(mapDir, name.replaceAll('.', '_'))),
      ),
    }));
    return { programs, maps };
  } catch (error) {
    for (const object of pinned) object.unpin();
    throw error;
  }
}

const optionalPin = (pin: string | undefined) => (pin === undefined ? {} : { pin });
