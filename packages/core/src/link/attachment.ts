/** Something attached without a link (a socket option, `BPF_PROG_ATTACH`): `detach()` or `using` undoes it. */
export interface Attachment extends Disposable {
  /** Undoes the attach; detaching twice is a no-op. */
  detach(): void;
}

/** `fields` with a `detach()` that runs `undo` the first time only, and `[Symbol.dispose]` calling it. */
export function detachOnce<T extends object>(fields: T, undo: () => void): T & Attachment {
  let attached = true;
  return {
    ...fields,
    detach() {
      if (!attached) return;
      attached = false;
      undo();
    },
    [Symbol.dispose]() {
      this.detach();
    },
  };
}
