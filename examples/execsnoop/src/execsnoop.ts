/**
 * Execsnoop in Node: loads the object through its generated module, attaches the tracepoint
 * program and yields each exec as a typed `event`, decoded by the generated codec.
 */
import { type Link, RingBuffer } from '@ebpf/core';
import { type event, eventCodec, load, type Objects } from './generated/execsnoop.generated.ts';

export type ExecEvent = event;

export class ExecSnoop implements Disposable {
  readonly #objects: Objects;
  readonly #link: Link;
  readonly #ring: RingBuffer;

  constructor() {
    this.#objects = load();
    try {
      this.#link = this.#objects.collection.attach('handle_exec');
      this.#ring = new RingBuffer(this.#objects.maps.events);
    } catch (error) {
      this.#objects.close();
      throw error;
    }
  }

  /** Every exec from now on, as it happens; ends when the snoop is closed. */
  events(): AsyncIterableIterator<ExecEvent> {
    return this.#ring.decoded(eventCodec);
  }

  /** Execs the program has seen since it was loaded (dropped records included). */
  get count(): bigint {
    return this.#objects.variables.exec_count.get();
  }

  close(): void {
    this.#ring.close();
    this.#link.close();
    this.#objects.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
