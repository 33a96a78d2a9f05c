import * as sys from '@ebpf/sys';
import { translateSysError } from '../errors.ts';

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Readiness of a reader's fds on Node's event loop (no thread, no busy loop): `wait()` resolves
 * when any of them becomes readable, or when the reader closes. Any number of waits may be
 * pending; all settle together. The watchers are made on the first wait and stopped between
 * waits, so a reader nobody waits on keeps the process alive no longer than its owner does.
 */
export class Readiness {
  readonly #what: string;
  readonly #fds: number[] = [];
  #watchers: sys.FdWatcher[] = [];
  #waiters: Waiter[] = [];

  /** `what` names the reader in errors ("waiting on the ring buffer"). */
  constructor(what: string) {
    this.#what = what;
  }

  /** Watches `fd` too (from the next wait on, or at once when a wait is pending). */
  add(fd: number): void {
    this.#fds.push(fd);
    if (this.#watchers.length === 0) return; // made on the next wait
    const watcher = this.#watch(fd);
    if (this.#waiters.length > 0) watcher.start();
  }

  /** Resolves on the next readiness of any fd, or when {@link Readiness.close} is called. */
  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#watchers.length === 0) for (const fd of this.#fds) this.#watch(fd);
      this.#waiters.push({ resolve, reject });
      for (const watcher of this.#watchers) watcher.start();
    });
  }

  #watch(fd: number): sys.FdWatcher {
    const watcher = new sys.FdWatcher(fd, (error) => {
      for (const w of this.#watchers) w.stop();
      this.#settle(error ? translateSysError(error, this.#what) : undefined);
    });
    this.#watchers.push(watcher);
    return watcher;
  }

  /** Settles every pending wait: rejects them with `error`, or resolves them. */
  #settle(error: Error | undefined): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }

  /** Closes the watchers (before the fds they watch are closed) and resolves every pending wait. */
  close(): void {
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
    this.#fds.length = 0;
    this.#settle(undefined);
  }
}
