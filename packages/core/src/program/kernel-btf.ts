/**
 * Kernel functions by name in the kernel's BTF, for programs that attach to one (fentry, fexit,
 * fmod_ret, LSM). The BTF is `@ebpf/btf/node`'s `kernelBtf()`, parsed once per process.
 */
import { BtfError } from '@ebpf/btf';
import { kernelBtf } from '@ebpf/btf/node';
import { NotFoundError } from '../errors.ts';

/**
 * The BTF type id of kernel function `name` in vmlinux BTF (the first, if static functions of
 * several files share the name). Throws `NotFoundError` when the kernel has no such function,
 * or no BTF.
 */
export function kernelFunctionId(name: string): number {
  let found: number | undefined;
  try {
    found = kernelBtf().typesByName(name, 'func')[0]?.id;
  } catch (error) {
    if (!(error instanceof BtfError)) throw error;
    throw new NotFoundError(`cannot find kernel function '${name}': ${error.message}`, {
      cause: error,
      code: 'ENOENT',
    });
  }
  if (found === undefined)
    throw new NotFoundError(`no kernel function '${name}' in vmlinux BTF`, { code: 'ENOENT' });
  return found;
}
