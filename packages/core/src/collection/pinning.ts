/** Maps pinned by name (`LIBBPF_PIN_BY_NAME`): `<pinPath>/<map name>`, reused when present. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MapSpec } from '@ebpf/object';
import { BpfMap } from '../map/map.ts';
import { validatePinPath } from '../pin.ts';

/** Where a by-name pinned map lives under `pinPath` (libbpf: the map's name). */
export function pinnedMapPath(pinPath: string, spec: MapSpec): string {
  return validatePinPath(join(pinPath, spec.name));
}

/** The map pinned at `path`, or undefined when nothing is pinned there. */
export function openPinnedMap(path: string): BpfMap | undefined {
  return existsSync(path) ? BpfMap.fromPin(path) : undefined;
}
