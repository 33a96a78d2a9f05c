/**
 * Loads `tcp-connect-latency.bpf.o` (built by clang from the C beside this file), attaches it to
 * the `sock/inet_sock_set_state` tracepoint and turns the records of its ring buffer into
 * `Connection`s: who connected where, and how long the handshake took.
 */
import { fileURLToPath } from 'node:url';
import { bytes, Collection, cstring, RingBuffer, struct } from '@ebpf/core';

/** `struct event` of the C program, field for field. */
const eventCodec = struct({
  latency_ns: 'u64',
  pid: 'u32',
  family: 'u16',
  sport: 'u16',
  dport: 'u16',
  saddr: bytes(16),
  daddr: bytes(16),
  comm: cstring(16),
});

const AF_INET = 2;

/** One outgoing TCP connection that reached ESTABLISHED. */
export interface Connection {
  pid: number;
  comm: string;
  family: 'ipv4' | 'ipv6';
  source: string;
  sourcePort: number;
  destination: string;
  destinationPort: number;
  /** From SYN sent to ESTABLISHED, in nanoseconds. */
  latencyNs: bigint;
}

/** Where `pnpm build` puts the object: next to the compiled modules in `dist/`. */
export const defaultObject = new URL('./tcp-connect-latency.bpf.o', import.meta.url);

/** An address in network order as text; IPv6 compressed the way URLs write it (`::1`). */
function formatAddress(ipv4: boolean, address: Uint8Array): string {
  if (ipv4) return address.subarray(0, 4).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((address[i]! << 8) | address[i + 1]!).toString(16));
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

function decode(record: Uint8Array): Connection {
  const e = eventCodec.read(new DataView(record.buffer, record.byteOffset, record.byteLength), 0);
  const ipv4 = e.family === AF_INET;
  return {
    pid: e.pid,
    comm: e.comm,
    family: ipv4 ? 'ipv4' : 'ipv6',
    source: formatAddress(ipv4, e.saddr),
    sourcePort: e.sport,
    destination: formatAddress(ipv4, e.daddr),
    destinationPort: e.dport,
    latencyNs: e.latency_ns,
  };
}

/** The loaded and attached program; iterate it for connections as they are made. */
export class ConnectLatency implements Disposable, AsyncIterable<Connection> {
  readonly #collection: Collection;
  readonly #reader: RingBuffer;

  constructor(object: string | URL = defaultObject) {
    this.#collection = Collection.load(object instanceof URL ? fileURLToPath(object) : object);
    try {
      this.#collection.attach('handle_set_state');
      this.#reader = new RingBuffer(this.#collection.maps.events!);
    } catch (error) {
      this.#collection.close();
      throw error;
    }
  }

  /** The connections recorded so far and not yet read (does not wait). */
  read(): Connection[] {
    const connections: Connection[] = [];
    for (let record = this.#reader.next(); record !== undefined; record = this.#reader.next())
      connections.push(decode(record));
    return connections;
  }

  /** Connections as they are made, until `close()`. */
  async *[Symbol.asyncIterator](): AsyncIterator<Connection> {
    for await (const record of this.#reader) yield decode(record);
  }

  /** Detaches the program and frees everything. */
  close(): void {
    this.#reader.close();
    this.#collection.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
