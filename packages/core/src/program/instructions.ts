import {
  AsmError,
  decode,
  encode,
  type HasInstructions,
  type Instruction,
  type Item,
  isLabel,
  link,
  resolveMaps,
} from '@ebpf/asm';
import { InvalidArgumentError } from '../errors.ts';

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
    // A list without labels or symbolic targets links to itself: skip the copy (encode() does too).
    const linked = isList
      ? needsLinking(instructions as readonly Item[])
        ? link(instructions as readonly Item[]).instructions
        : (instructions as readonly Instruction[])
      : (instructions as HasInstructions).instructions;
    return resolveAndEncode(linked, maps);
  } catch (error) {
    // Bad instructions, unknown labels...: @ebpf/asm says what and where.
    if (error instanceof AsmError)
      throw new InvalidArgumentError(`instructions: ${error.message}`, { cause: error });
    throw error;
  }
}

function needsLinking(items: readonly Item[]): boolean {
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Item | undefined;
    if (item === null || typeof item !== 'object' || isLabel(item) || item.target !== undefined) return true;
  }
  return false;
}

function resolveAndEncode(
  instructions: readonly Instruction[],
  maps: Readonly<Record<string, MapLike>>,
): Uint8Array {
  let referencesMaps = false;
  for (let i = 0; i < instructions.length; i++) {
    const name = instructions[i]?.map;
    if (name === undefined) continue;
    referencesMaps = true;
    const map = Object.hasOwn(maps, name) ? maps[name] : undefined;
    if (map === undefined || typeof map !== 'object' || map === null) {
      const known = Object.keys(maps);
      throw new InvalidArgumentError(
        `instructions[${i}] refers to map '${name}', which is not in maps (${known.length ? known.join(', ') : 'none given'})`,
      );
    }
  }
  // No map references: resolveMaps would only copy the list.
  if (!referencesMaps) return encode(instructions);
  return encode(resolveMaps(instructions, (name) => (maps[name] as MapLike).fd));
}

/** Decodes bytecode read back from the kernel. */
export function decodeXlated(bytes: Uint8Array): Instruction[] {
  return decode(bytes);
}
