/**
 * Loads `tc-firewall.bpf.o` (built by clang from the C beside this file) and attaches it to an
 * interface's tcx ingress hook; the blocked prefixes are managed from here, in its LPM trie.
 */
import { fileURLToPath } from 'node:url';
import { BpfMap, Collection, ipv4, lpmKey, struct } from '@ebpf/core';
import { formatPrefix, parsePrefix } from './prefix.ts';

/** `struct traffic` of the C program. */
const traffic = struct({ packets: 'u64', bytes: 'u64' });

/** Keys of the `verdicts` map (`enum verdict`). */
const VERDICTS = { pass: 0, drop: 1 } as const;
export type Verdict = keyof typeof VERDICTS;

export interface Traffic {
  packets: bigint;
  bytes: bigint;
}

/** Where `pnpm build` puts the object: next to the compiled modules in `dist/`. */
export const defaultObject = new URL('./tc-firewall.bpf.o', import.meta.url);

const openMaps = (collection: Collection) => {
  const { blocked, verdicts } = collection.maps;
  const prefixes = BpfMap.fromFd(blocked!.fd, { key: lpmKey(ipv4), value: 'u64' });
  try {
    return {
      prefixes,
      verdicts: BpfMap.fromFd<number, Traffic[]>(verdicts!.fd, { key: 'u32', value: traffic }),
    };
  } catch (error) {
    prefixes.close();
    throw error;
  }
};

/** The firewall, attached to one interface until `close()`. */
export class Firewall implements Disposable {
  readonly #collection: Collection;
  readonly #prefixes: BpfMap<ReturnType<typeof parsePrefix>, bigint>;
  readonly #verdicts: BpfMap<number, Traffic[]>;

  constructor(iface: string | number, object: string | URL = defaultObject) {
    this.#collection = Collection.load(object instanceof URL ? fileURLToPath(object) : object);
    try {
      ({ prefixes: this.#prefixes, verdicts: this.#verdicts } = openMaps(this.#collection));
      this.#collection.attach('firewall', { interface: iface });
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Drops packets from `prefix` (`10.0.0.0/8`, or an address) from now on. */
  block(prefix: string): void {
    const key = parsePrefix(prefix);
    // Blocking again keeps the prefix's drop count.
    if (!this.#prefixes.has(key)) this.#prefixes.set(key, 0n);
  }

  /** Lets packets from `prefix` through again; false if it was not blocked. */
  unblock(prefix: string): boolean {
    return this.#prefixes.delete(parsePrefix(prefix));
  }

  /** The blocked prefixes and how many packets each one dropped. */
  blocked(): { prefix: string; drops: bigint }[] {
    return [...this.#prefixes].map(([key, drops]) => ({ prefix: formatPrefix(key), drops }));
  }

  /** Packets and bytes seen per verdict, summed over the CPUs. */
  traffic(): Record<Verdict, Traffic> {
    const total = (verdict: Verdict): Traffic => {
      const perCpu = this.#verdicts.get(VERDICTS[verdict]) ?? [];
      return perCpu.reduce((sum, t) => ({ packets: sum.packets + t.packets, bytes: sum.bytes + t.bytes }), {
        packets: 0n,
        bytes: 0n,
      });
    };
    return { pass: total('pass'), drop: total('drop') };
  }

  /** Detaches the program and frees everything. */
  close(): void {
    this.#prefixes?.close();
    this.#verdicts?.close();
    this.#collection.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
