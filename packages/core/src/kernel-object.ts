import * as sys from '@ebpf/sys';
import { ClosedError } from './errors.ts';

const debug = typeof process !== 'undefined' && process.env.EBPF_DEBUG !== undefined;

/** Closes the fds of kernel objects that were dropped without `close()`: the safety net. */
const finalizer = new FinalizationRegistry<{ fd: number; kind: string }>(({ fd, kind }) => {
  if (debug) console.warn(`@ebpf/core: a ${kind} (fd ${fd}) was garbage-collected without close()`);
  try {
    sys.close(fd);
  } catch {
    // Nothing to report to: the object is gone. The fd was closed or never valid.
  }
});

/**
 * Calls `fn` once when `object` is closed (at once if it is already); returns a function that
 * cancels the call. For objects whose life follows another's, inside `@ebpf/core` only.
 */
export let onClose: (object: KernelObject, fn: () => void) => () => void;

/**
 * The one owner of one kernel file descriptor (map, program, link, BTF, ...). Close it with
 * `close()` or a `using` declaration; if it is dropped without either, a finalizer closes the fd.
 * Closing twice is a no-op; using a closed object throws `ClosedError`.
 */
export abstract class KernelObject implements Disposable {
  #fd: number;
  readonly #kind: string;
  /**
   * Called once by `close()`: objects whose life follows this one (a ring reader of a map). Made
   * by the first follower: most objects (every program of a collection) never have one.
   */
  #followers: Set<() => void> | undefined;

  static {
    onClose = (object, fn) => {
      if (object.closed) {
        fn();
        return () => {};
      }
      object.#followers ??= new Set();
      const followers = object.#followers;
      followers.add(fn);
      return () => followers.delete(fn);
    };
  }

  protected constructor(fd: number, kind: string) {
    this.#fd = fd;
    this.#kind = kind;
    finalizer.register(this, { fd, kind }, this);
  }

  /** The file descriptor. Throws `ClosedError` once the object is closed. */
  get fd(): number {
    if (this.#fd < 0) throw new ClosedError(`this ${this.#kind} is closed`);
    return this.#fd;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Releases the file descriptor. The kernel object lives on while pins, links or other fds hold it. */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    finalizer.unregister(this);
    sys.close(fd);
    const followers = this.#followers;
    if (followers === undefined) return;
    this.#followers = undefined;
    for (const follow of [...followers]) follow();
  }

  /** Closes the object at the end of a `using` block; same as {@link KernelObject.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** A second fd on the same kernel object, for a new owner. */
  protected dupFd(): number {
    return sys.dup(this.fd);
  }
}
