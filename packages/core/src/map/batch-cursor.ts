/**
 * Where a batch walk stands: pass the same cursor to successive `getBatch({ cursor })`,
 * `getBatchInto` or `lookupBatchInto` calls; `done` once the walk reached the end of the map.
 */
export class MapBatchCursor {
  /** @internal The kernel's position token (bucket or key). */
  readonly token: Uint8Array;
  /** @internal The last key seen, for walks that fall back to single operations. */
  lastKey: Uint8Array | undefined;
  /** @internal Whether the first call was made. */
  started = false;
  /** True once the walk reached the end of the map. */
  done = false;

  constructor(keySize = 8) {
    this.token = new Uint8Array(new ArrayBuffer(Math.max(8, keySize)));
  }

  /** Starts over from the beginning of the map. */
  reset(): void {
    this.started = false;
    this.done = false;
    this.lastKey = undefined;
  }
}
