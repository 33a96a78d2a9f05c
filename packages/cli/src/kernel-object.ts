/**
 * `ebpf object load`: an object's maps and programs created in the kernel through
 * `Collection.load`, its programs attached where their sections say (`coll.attachAll()`), then
 * pinned, or held while a callback waits, or closed again (a check that it loads). Imported only
 * by that command (it loads the native binding).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type AutoAttachOptions,
  attachesFromSection,
  Collection,
  type Link,
  linkTypeName,
  type PinnableObject,
  planAttach,
} from '@ebpf/core';
import type { CollectionSpec, ProgramSpec } from '@ebpf/object';
import { CliError, ExitCode } from './exit-codes.ts';
import { readObject } from './object-summary.ts';

/** A map, program or link the load made, with its kernel id and pin. */
export interface LoadedItem {
  /** The map's or program's name; a link's is its program's. */
  name: string;
  id: number;
  type: string;
  /** Where it is pinned; absent when nothing keeps it past the command. */
  pin?: string;
}

export interface LoadedObject {
  programs: LoadedItem[];
  maps: LoadedItem[];
  /** With `attach`: one link per program whose section says where it goes. */
  links?: LoadedItem[];
}

export interface LoadOptions {
  /** Pin programs at `DIR/<name>`, maps at `DIR/maps/<name>` and links at `DIR/links/<name>`. */
  readonly pinDir?: string;
  /** Attach the programs whose sections say where, with these options for what they cannot say. */
  readonly attach?: AutoAttachOptions;
  /** Called while everything is loaded (and attached), before it is closed. */
  readonly whileLoaded?: (loaded: LoadedObject) => Promise<void>;
}

/**
 * Loads the object at `path`. With `pinDir`, each program is pinned at `pinDir/<name>`, each map
 * at `pinDir/maps/<name>` (dots made `_`: bpffs refuses names like `.data`; maps declared
 * `LIBBPF_PIN_BY_NAME` are reused from there when pinned already) and each link at
 * `pinDir/links/<name>`, so they outlive the command; otherwise everything is closed on return,
 * after `whileLoaded`. A failed pin undoes the pins made before it.
 */
export async function loadObject(path: string, options: LoadOptions = {}): Promise<LoadedObject> {
  const spec = readObject(path);
  if (options.attach) checkAttachable(spec, options.attach);
  const dir = options.pinDir === undefined ? undefined : resolve(options.pinDir);
  const mapDir = dir && join(dir, 'maps');
  const linkDir = dir && options.attach && join(dir, 'links');
  for (const d of [mapDir, linkDir]) if (d) mkdirSync(d, { recursive: true });
  using coll = Collection.load(spec, mapDir ? { pinPath: mapDir } : {});
  const links = options.attach && coll.attachAll(options.attach);
  const pinned: PinnableObject[] = [];
  const pin = (object: PinnableObject, at: string | undefined): string | undefined => {
    if (at === undefined) return undefined;
    object.pin(at);
    pinned.push(object);
    return at;
  };
  let loaded: LoadedObject;
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
    loaded = {
      programs,
      maps,
      ...(links && {
        links: linkItems(links, programs, (at, link) => pin(link, linkDir && join(linkDir, at))),
      }),
    };
  } catch (error) {
    for (const object of pinned) object.unpin();
    throw error;
  }
  await options.whileLoaded?.(loaded);
  return loaded;
}

/** Links named after their programs (found by program id), pinned by `pin`. */
function linkItems(
  links: readonly Link[],
  programs: readonly LoadedItem[],
  pin: (name: string, link: Link) => string | undefined,
): LoadedItem[] {
  return links.map((link) => {
    const info = link.info();
    const name = programs.find((p) => p.id === info.progId)?.name ?? `prog_${info.progId}`;
    return { name, id: info.id, type: linkTypeName(info.type), ...optionalPin(pin(name, link)) };
  });
}

const optionalPin = (pin: string | undefined) => (pin === undefined ? {} : { pin });

/** What sections cannot say, and the `object load` option that says it. */
const attachFlags = [
  ['interface', '--iface NAME (or an interface index)'],
  ['cgroup', '--cgroup PATH (a cgroup v2 folder, e.g. /sys/fs/cgroup)'],
  ['netns', '--netns PATH (e.g. /proc/self/ns/net or /run/netns/NAME)'],
] as const;

/**
 * Plans every attach before anything is loaded, so that a program whose section needs an option
 * the command line lacks fails the command at once (a usage error, exit 2), naming the option.
 */
function checkAttachable(spec: CollectionSpec, options: AutoAttachOptions): void {
  for (const program of Object.values(spec.programs)) {
    if (!program.autoload || !attachesFromSection(program)) continue;
    const problem = planProblem(program, options);
    if (problem === undefined) continue;
    // The option that, given, would make the plan work: the one to ask for.
    const flag = attachFlags.find(
      ([option]) =>
        options[option] === undefined && planProblem(program, { ...options, [option]: 'x' }) === undefined,
    );
    throw new CliError(problem.message, ExitCode.Usage, [
      flag
        ? `add ${flag[1]}`
        : 'object load cannot give what it needs: load it without --attach and attach that program from code (Collection.attach)',
    ]);
  }
}

function planProblem(program: ProgramSpec, options: AutoAttachOptions): Error | undefined {
  try {
    planAttach(program, options);
    return undefined;
  } catch (error) {
    if ((error as Error).name !== 'InvalidArgumentError') throw error;
    return error as Error;
  }
}
