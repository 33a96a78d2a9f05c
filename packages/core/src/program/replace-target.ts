/**
 * What an `ext` (freplace) program replaces: a global function of a loaded program, named in
 * that program's BTF (global functions are verified on their own, so their BTF prototype is
 * the contract a replacement must match).
 */
import { Btf } from '@ebpf/btf';
import * as sys from '@ebpf/sys';
import type { HasFd } from '../codec/per-cpu.ts';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { btfInfo, fdFromId, progInfo, readObjectInfo } from '../object-info.ts';

/** A global function of a loaded program, for `BpfProgram.load({ type: 'ext', attachTo })`. */
export interface ProgramFunction {
  /** The loaded program; it must have BTF (programs of `Collection.load` have). */
  readonly program: HasFd;
  /** The function's name in the program's BTF, or its BTF type id there. */
  readonly function: string | number;
}

/** The BTF type id of `target.function` in its program's BTF. */
export function replacedFunctionId(target: ProgramFunction): number {
  const fn = target.function;
  if (typeof fn === 'number') {
    if (!Number.isInteger(fn) || fn <= 0)
      throw new InvalidArgumentError(`attachTo.function must be a function name or a BTF type id, got ${fn}`);
    return fn;
  }
  const info = progInfo(target.program.fd);
  if (info.btfId === 0)
    throw new InvalidArgumentError(
      `program ${info.name || info.id} has no BTF, so none of its functions can be replaced; load it with BTF (Collection.load does)`,
    );
  const id = programBtf(info.btfId).typeByName(fn, 'func')?.id;
  if (id === undefined)
    throw new NotFoundError(`program ${info.name || info.id} has no function ${fn} in its BTF`, {
      code: 'ENOENT',
    });
  return id;
}

/** The BTF object `id` read back from the kernel (a program's BTF stands alone, not split). */
function programBtf(id: number): Btf {
  const fd = fdFromId('btf', id);
  try {
    const bytes = new Uint8Array(btfInfo(fd).size);
    readObjectInfo(fd, 'btf', { btf: bytes, btfSize: bytes.length });
    return Btf.parse(bytes);
  } finally {
    sys.close(fd);
  }
}
