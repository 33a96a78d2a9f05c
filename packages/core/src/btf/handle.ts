/**
 * BTF loaded into the kernel: the fd programs and maps name with `prog_btf_fd` / `btf_fd`.
 * Marshalling types into bytes is `@ebpf/btf`'s job; this is the syscall and the fd's owner.
 */
import * as sys from '@ebpf/sys';
import { AttrBuffer, BtfLoadAttr, Cmd } from '@ebpf/uapi';
import { InvalidArgumentError, KernelRejectedError, translateSysError } from '../errors.ts';
import { KernelObject } from '../kernel-object.ts';
import { type BtfInfo, btfInfo, fdFromId } from '../object-info.ts';

/** The kernel refuses BTF log buffers larger than this. */
const maxLogSize = 0x00ff_ffff;
const firstLogSize = 64 * 1024;

/** The kernel refused a BTF blob; `log` is what its BTF checker said. */
export class BtfRejectedError extends KernelRejectedError {
  override name = 'BtfRejectedError';
  readonly log: string;

  constructor(log: string, cause: sys.SysError) {
    const last = log.trim().split('\n').slice(-3).join('\n');
    super(
      `the kernel refused the BTF (${cause.code}): ${last || 'no log'}; fix the types it names, or sanitise the BTF for this kernel`,
      { cause, command: 'BPF_BTF_LOAD' },
    );
    this.log = log;
  }
}

/** Options of `BtfHandle.load`. */
export interface BtfLoadOptions {
  /** Ask for the kernel's log even when the load succeeds (it is then `handle.log`). */
  readonly logLevel?: 0 | 1;
}

function loadOnce(bytes: Uint8Array, log: Uint8Array | undefined): number {
  const attr = new AttrBuffer(BtfLoadAttr);
  attr.pointer('btf', bytes);
  attr.u32('btfSize', bytes.length);
  if (log !== undefined) {
    attr.pointer('btfLogBuf', log);
    attr.u32('btfLogSize', log.length);
    attr.u32('btfLogLevel', 1);
  }
  return sys.bpf(Cmd.BtfLoad, attr.bytes, attr.pointers);
}

const logText = (log: Uint8Array): string => {
  const end = log.indexOf(0);
  return new TextDecoder().decode(end < 0 ? log : log.subarray(0, end));
};

/** A BTF object in the kernel, owned: `close()`, `using`, or the finalizer releases it. */
export class BtfHandle extends KernelObject {
  /** The kernel's log of the load, when `logLevel` asked for one. */
  readonly log: string | undefined;

  private constructor(fd: number, log?: string) {
    super(fd, 'BTF object');
    this.log = log;
  }

  /**
   * `BPF_BTF_LOAD` of raw BTF (what `BtfBuilder.marshal()` gives). A refusal is retried with
   * the log on and thrown as `BtfRejectedError` carrying it.
   */
  static load(bytes: Uint8Array, options: BtfLoadOptions = {}): BtfHandle {
    if (!(bytes instanceof Uint8Array) || bytes.length === 0)
      throw new InvalidArgumentError(
        'bytes must be a non-empty Uint8Array of raw BTF (BtfBuilder.marshal())',
      );
    let log = options.logLevel === 1 ? new Uint8Array(firstLogSize) : undefined;
    for (;;) {
      try {
        const fd = loadOnce(bytes, log);
        return new BtfHandle(fd, log === undefined ? undefined : logText(log));
      } catch (error) {
        if (!(error instanceof sys.SysError)) throw error;
        if (error.code === 'EPERM' || error.code === 'EACCES') throw translateSysError(error, 'BPF_BTF_LOAD');
        if (log === undefined) log = new Uint8Array(firstLogSize);
        else if (error.code === 'ENOSPC' && log.length < maxLogSize)
          log = new Uint8Array(Math.min(maxLogSize, log.length * 4));
        else throw new BtfRejectedError(logText(log), error);
      }
    }
  }

  /** Opens the BTF object with kernel id `id` (`BPF_BTF_GET_FD_BY_ID`). */
  static fromId(id: number): BtfHandle {
    return new BtfHandle(fdFromId('btf', id));
  }

  /** The kernel's `bpf_btf_info`: id, name (of a module's BTF), size, whether it is a kernel's. */
  info(): BtfInfo {
    return btfInfo(this.fd);
  }
}
