import {
  AsmError,
  decode,
  elfObjectReason,
  encodedLength,
  encodeInto,
  exit,
  type HasInstructions,
  type Instruction,
  type Item,
  isElfObject,
  isLabel,
  link,
  mov64,
  R0,
} from '@ebpf/asm';
import { InvalidArgumentError } from '../errors.ts';

/** `r0 = 0; exit`, the tail of every probe program. */
export const returnZero: readonly Instruction[] = [mov64(R0, 0), exit()];

/** Anything that owns a map fd (a `BpfMap`). */
export interface MapLike {
  readonly fd: number;
}

/**
 * A program as `BpfProgram.load` takes it: `@ebpf/asm` instructions (builders' output, labels
 * allowed, or an assembled `Program`), or raw bytecode.
 */
export type ProgramInstructions = readonly Item[] | HasInstructions | Uint8Array;

/**
 * Turns a program into the bytecode the kernel takes: map references by name (`lddw` with
 * `map: 'counts'`) become the fds of the maps in `maps`; raw bytecode is checked and passed as is.
 */
export function encodeInstructions(
  instructions: ProgramInstructions,
  maps: Readonly<Record<string, MapLike>>,
): Uint8Array {
  if (instructions instanceof Uint8Array) {
    if (isElfObject(instructions)) throw new InvalidArgumentError(`instructions: ${elfObjectReason}`);
    if (instructions.length === 0 || instructions.length % 8 !== 0) {
      throw new InvalidArgumentError(
        `instructions: bytecode must be a non-empty multiple of 8 bytes, got ${instructions.length} bytes`,
      );
    }
    return instructions;
  }
  const isList = Array.isArray(instructions);
  if (
    (isList && instructions.length === 0) ||
    (!isList && !Array.isArray((instructions as HasInstructions | null)?.instructions))
  ) {
    throw new InvalidArgumentError(
      'instructions must be a non-empty list of @ebpf/asm instructions, an assembled program or a Uint8Array',
    );
  }
  try {
    // One pass over the list decides what the slow path needs: a list without labels or symbolic
    // targets links to itself (link() would only copy it), and one without map references needs
    // no fds. A Program's jumps keep their targets, so it is linked again as encode() always did
    // (a no-op on linked output).
    const items = isList ? (instructions as readonly Item[]) : (instructions as HasInstructions).instructions;
    let linked = items as readonly Instruction[];
    let scan = scanItems(items);
    if (scan & NEEDS_LINK) {
      linked = link(items).instructions;
      scan = scanItems(linked);
    }
    // Straight into a buffer of the right size (encode() would scan the list for labels again),
    // map references filled on the way rather than by resolveMaps' copy of the list.
    const out = new Uint8Array(new ArrayBuffer(encodedLength(linked)));
    encodeInto(linked, out, 0, scan & HAS_MAPS ? { mapFd: mapFds(linked, maps) } : {});
    return out;
  } catch (error) {
    // Bad instructions, unknown labels...: @ebpf/asm says what and where.
    if (error instanceof AsmError)
      throw new InvalidArgumentError(`instructions: ${error.message}`, { cause: error });
    throw error;
  }
}

const NEEDS_LINK = 1;
const HAS_MAPS = 2;

/** `NEEDS_LINK` when an item is a label, has a symbolic target or is not an object; `HAS_MAPS` when one refers to a map by name. */
function scanItems(items: readonly Item[]): number {
  let scan = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Item | undefined;
    if (item === null || typeof item !== 'object' || isLabel(item) || item.target !== undefined) {
      scan |= NEEDS_LINK;
    } else if (item.map !== undefined) scan |= HAS_MAPS;
  }
  return scan;
}

/** Checks that every map the instructions name is in `maps`; returns the name to fd lookup. */
function mapFds(
  instructions: readonly Instruction[],
  maps: Readonly<Record<string, MapLike>>,
): (name: string) => number {
  for (let i = 0; i < instructions.length; i++) {
    const name = instructions[i]?.map;
    if (name === undefined) continue;
    const map = Object.hasOwn(maps, name) ? maps[name] : undefined;
    if (map !== undefined && (typeof map !== 'object' || map === null || !Number.isInteger(map.fd))) {
      throw new InvalidArgumentError(
        `maps.${name} must be a BpfMap (an object with an fd), got ${map === null ? 'null' : typeof map === 'object' ? 'an object without an fd' : `${typeof map} ${String(map)}`}`,
      );
    }
    if (map === undefined) {
      const known = Object.keys(maps);
      throw new InvalidArgumentError(
        `instructions[${i}] refers to map '${name}', which is not in maps (${known.length ? known.join(', ') : 'none given'})`,
      );
    }
  }
  return (name) => (maps[name] as MapLike).fd;
}

/** Decodes bytecode read back from the kernel. */
export function decodeXlated(bytes: Uint8Array): Instruction[] {
  return decode(bytes);
}
