import { cNameOf, FuncId, PseudoCall } from '@ebpf/uapi';
import { imm32, makeInstruction, off16 } from './build.ts';
import { InvalidInstructionError } from './errors.ts';
import type { Instruction } from './instruction.ts';
import type { Target } from './jump.ts';
import { CALL, EXIT } from './opcode.ts';

/** A helper name as `FuncId` spells it (`'MapLookupElem'`). */
export type HelperName = keyof typeof FuncId;

let helperIds: Map<string, number> | undefined;
let helperNamesById: Map<number, string> | undefined;

/** `MapLookupElem` → `map_lookup_elem`. */
function snake(pascal: string): string {
  return pascal.replace(/(?<=[a-z0-9])([A-Z])/g, '_$1').toLowerCase();
}

function tables(): [Map<string, number>, Map<number, string>] {
  if (helperIds === undefined || helperNamesById === undefined) {
    helperIds = new Map();
    helperNamesById = new Map();
    for (const [name, id] of Object.entries(FuncId) as [string, number][]) {
      const c = cNameOf(FuncId, id)?.replace(/^BPF_FUNC_/, '') ?? snake(name);
      helperIds.set(name, id);
      helperIds.set(c, id);
      helperIds.set(`bpf_${c}`, id);
      if (!helperNamesById.has(id)) helperNamesById.set(id, `bpf_${c}`);
    }
  }
  return [helperIds, helperNamesById];
}

/**
 * The id of a helper given as `FuncId` spells it (`MapLookupElem`), as its C name
 * (`bpf_map_lookup_elem`) or without the prefix (`map_lookup_elem`); undefined if unknown.
 */
export function helperId(name: string): number | undefined {
  return tables()[0].get(name);
}

/** The C name of a helper id (`1` → `bpf_map_lookup_elem`), or undefined if unknown. */
export function helperName(id: number): string | undefined {
  return tables()[1].get(id);
}

/** `call helper`: a helper call by id (`FuncId.MapLookupElem`) or name (`'map_lookup_elem'`). */
export function call(helper: number | HelperName | (string & {})): Instruction {
  let id: number | undefined;
  if (typeof helper === 'number') id = helper;
  else {
    id = helperId(helper);
    if (id === undefined) {
      throw new InvalidInstructionError(
        `unknown helper '${helper}' (use a FuncId name like 'MapLookupElem' or a C name like 'bpf_map_lookup_elem'; callFunc() calls BPF functions, callKfunc() kernel functions)`,
        { field: 'imm' },
      );
    }
  }
  if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
    throw new InvalidInstructionError(`helper id ${id} is out of range`, { field: 'imm' });
  }
  return makeInstruction(CALL, 0, 0, 0, id);
}

/** `call fn`: a BPF-to-BPF call of the function at label `target` (or a relative slot delta). */
export function callFunc(target: Target): Instruction {
  if (typeof target === 'string') return makeInstruction(CALL, 0, PseudoCall.Call, 0, 0, { target });
  return makeInstruction(CALL, 0, PseudoCall.Call, 0, imm32(target, 'call offset'));
}

/**
 * `call kfunc`: a kernel function call, by name (left for the loader to resolve to a BTF id, see
 * `Program.references()`) or by BTF id; `btfFdIndex` selects a module BTF in `fd_array`.
 */
export function callKfunc(kfunc: string | number, btfFdIndex = 0): Instruction {
  const off = off16(btfFdIndex, 'BTF fd index');
  if (typeof kfunc === 'string') {
    if (kfunc.length === 0)
      throw new InvalidInstructionError('kfunc name must not be empty', { field: 'kfunc' });
    return makeInstruction(CALL, 0, PseudoCall.KfuncCall, off, 0, { kfunc });
  }
  return makeInstruction(CALL, 0, PseudoCall.KfuncCall, off, imm32(kfunc, 'BTF id'));
}

/** `exit`: return r0 to the caller (or from the program). */
export function exit(): Instruction {
  return makeInstruction(EXIT, 0, 0, 0, 0);
}
