import { AttachType, LinkType, ProgType } from '@ebpf/uapi';
import { InvalidArgumentError, NotSupportedError } from '../errors.ts';
import { type ProgramFunction, replacedFunctionId } from '../program/replace-target.ts';
import { attachTypeName } from '../program/types.ts';
import { lockdownMode } from '../system.ts';
import { checkCookie, createLink, Link, type TypedProgram } from './link.ts';

/** Options of `attachTracing`. */
export interface TracingOptions {
  /** What `bpf_get_attach_cookie()` returns in the program (fentry, fexit, fmod_ret, LSM). */
  readonly cookie?: number | bigint;
  /**
   * freplace only: the function of another loaded program to replace, instead of the one the
   * ext program was loaded against (libbpf's `bpf_program__attach_freplace`); its BTF prototype
   * must match.
   */
  readonly replace?: ProgramFunction;
}

/** A program on a BPF trampoline: fentry, fexit, fmod_ret, tp_btf, LSM or freplace. */
export class TracingLink extends Link {
  /** @internal Use `attachTracing`. */
  constructor(
    fd: number,
    readonly attachType: number | undefined,
  ) {
    super(fd, LinkType.Tracing);
  }
}

/** Attach types of tracing programs, which all go through a trampoline. */
const trampolineTypes = new Set<number>([
  AttachType.TraceFentry,
  AttachType.TraceFexit,
  AttachType.ModifyReturn,
  AttachType.TraceRawTp,
  AttachType.LsmMac,
  AttachType.LsmCgroup,
]);

/**
 * Why BPF trampolines (fentry, fexit, fmod_ret, LSM, freplace) cannot be used here, or undefined:
 * kernel lockdown (`/sys/kernel/security/lockdown` in integrity or confidentiality mode)
 * refuses them with EPERM.
 */
export function trampolinesRefused(): string | undefined {
  const mode = lockdownMode();
  return mode === 'integrity' || mode === 'confidentiality'
    ? `BPF trampolines (fentry/fexit/fmod_ret/LSM/freplace): refused by kernel lockdown (${mode}, /sys/kernel/security/lockdown)`
    : undefined;
}

/**
 * Attaches a tracing program (fentry, fexit, fmod_ret, tp_btf) or an LSM program to the kernel
 * function it was loaded for (`attachTo`), or an `ext` (freplace) program in place of the
 * function it was loaded to replace. Under kernel lockdown this is a `NotSupportedError` naming it.
 */
export function attachTracing(program: TypedProgram, options: TracingOptions = {}): TracingLink {
  const ext = program.type === ProgType.Ext;
  const { replace } = options;
  if (replace !== undefined && !ext)
    throw new InvalidArgumentError('attachTracing: replace is for ext (freplace) programs');
  if (!ext && program.type !== ProgType.Tracing && program.type !== ProgType.Lsm) {
    throw new InvalidArgumentError(
      `attachTracing needs a tracing, lsm or ext program, got program type ${program.type}`,
    );
  }
  const attachType = ext ? 0 : program.attachType;
  if (!ext && (attachType === undefined || !trampolineTypes.has(attachType))) {
    throw new InvalidArgumentError(
      `attachTracing needs a program loaded with attachType fentry, fexit, fmod_ret, tp_btf or lsm_mac, got ${attachType === undefined ? 'none' : attachTypeName(attachType)}`,
    );
  }
  const replacedId = replace === undefined ? 0 : replacedFunctionId(replace);
  const what = `attaching a ${ext ? 'freplace' : attachTypeName(attachType!)} program`;
  try {
    const fd = createLink({
      program,
      target: replace === undefined ? 0 : replace.program.fd,
      attachType: attachType!,
      what,
      extra: (attr) => {
        if (options.cookie !== undefined) attr.u64('tracingCookie', checkCookie(options.cookie));
        if (replacedId !== 0) attr.u32('targetBtfId', replacedId);
      },
    });
    return new TracingLink(fd, attachType);
  } catch (error) {
    const refused = trampolinesRefused();
    if ((error as { code?: string }).code === 'EPERM' && refused !== undefined) {
      throw new NotSupportedError('BPF trampolines', refused, { cause: error, code: 'EPERM' });
    }
    throw error;
  }
}
