/**
 * Counts kernel tracepoint hits with `tracepoint-counts.bpf.o` (built by clang from the C beside
 * this file) and serves them to Prometheus at `/metrics` as `ebpf_tracepoint_hits_total`.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  attachTracepoint,
  BpfMap,
  Collection,
  InvalidArgumentError,
  type Link,
  tracepointId,
} from '@ebpf/core';
import { Counter, Registry } from 'prom-client';

/** What a node's exporter counts unless told otherwise: process churn, scheduling, syscalls, TCP trouble. */
export const defaultTracepoints: readonly string[] = [
  'sched:sched_process_exec',
  'sched:sched_process_fork',
  'sched:sched_process_exit',
  'sched:sched_switch',
  'raw_syscalls:sys_enter',
  'tcp:tcp_retransmit_skb',
  'skb:kfree_skb',
];

/** Where `pnpm build` puts the object: next to the compiled modules in `dist/`. */
export const defaultObject = new URL('./tracepoint-counts.bpf.o', import.meta.url);

export interface ExporterOptions {
  /** `category:name` of each tracepoint to count (default {@link defaultTracepoints}). */
  readonly tracepoints?: readonly string[];
  /** Folder on bpffs where the counts map is pinned and found again after a restart (default: not pinned). */
  readonly pinPath?: string;
  readonly object?: string | URL;
}

/** `sched:sched_switch` as attachTracepoint's category and name. */
function splitTracepoint(tracepoint: string): [string, string] {
  const [category, name, ...rest] = tracepoint.split(':');
  if (!category || !name || rest.length > 0) {
    throw new InvalidArgumentError(
      `tracepoint '${tracepoint}' must be written category:name, like sched:sched_switch (see /sys/kernel/tracing/events)`,
    );
  }
  return [category, name];
}

/** The counting program, attached to every tracepoint asked for, and the metrics of its map. */
export class TracepointExporter implements Disposable {
  /** The registry `/metrics` serves; register more metrics in it to serve them too. */
  readonly registry = new Registry();
  readonly #collection: Collection;
  readonly #hits: BpfMap<number, bigint[]>;
  /** Tracepoint (`category:name`) -> its tracefs id, the key of its count. */
  readonly #ids = new Map<string, number>();
  readonly #links: Link[] = [];
  #server: Server | undefined;

  constructor(options: ExporterOptions = {}) {
    const { tracepoints = defaultTracepoints, object = defaultObject, pinPath } = options;
    const split = tracepoints.map(splitTracepoint);
    this.#collection = Collection.load(object instanceof URL ? fileURLToPath(object) : object, {
      ...(pinPath === undefined ? {} : { pinPath }),
    });
    try {
      this.#hits = BpfMap.fromFd<number, bigint[]>(this.#collection.maps.tracepoint_hits!.fd, {
        key: 'u32',
        value: 'u64',
      });
      const program = this.#collection.programs.count_hit!;
      for (const [category, name] of split) {
        const id = tracepointId(category, name);
        this.#ids.set(`${category}:${name}`, id);
        this.#links.push(attachTracepoint(program, category, name, { cookie: id }));
      }
    } catch (error) {
      this.close();
      throw error;
    }
    const counts = () => this.counts();
    new Counter({
      name: 'ebpf_tracepoint_hits_total',
      help: 'Times a kernel tracepoint was hit, counted by a BPF program',
      labelNames: ['tracepoint'],
      registers: [this.registry],
      collect() {
        // The kernel holds the totals: the counter is set to them at every scrape.
        this.reset();
        for (const [tracepoint, hits] of counts()) this.inc({ tracepoint }, Number(hits));
      },
    });
  }

  /** Hits per tracepoint so far, summed over the CPUs. */
  counts(): Map<string, bigint> {
    const counts = new Map<string, bigint>();
    for (const [tracepoint, id] of this.#ids) {
      const perCpu = this.#hits.get(id) ?? [];
      counts.set(
        tracepoint,
        perCpu.reduce((sum, n) => sum + n, 0n),
      );
    }
    return counts;
  }

  /** Serves `/metrics` on `port` (0: any free one) and `host`; resolves to the port bound. */
  async listen(port: number, host?: string): Promise<number> {
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
      );
    });
    this.#server = server;
    server.listen(port, host);
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  }

  /** Stops serving, detaches the program and frees everything (a pinned map stays pinned). */
  close(): void {
    this.#server?.close();
    this.#server?.closeAllConnections();
    for (const link of this.#links) link.close();
    this.#hits?.close();
    this.#collection.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
