import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { get } from 'node:http';
import { InvalidArgumentError } from '@ebpf/core';
import { requireKernel } from '@ebpf/test-utils';
import { buildSource, requireTools, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TracepointExporter } from './exporter.ts';

const tracepoints = ['sched:sched_process_exec', 'sched:sched_process_exit', 'raw_syscalls:sys_enter'];

/** GET `path` of the exporter on loopback, without keep-alive (no socket outlives the test). */
function scrape(port: number, path = '/metrics'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, type: response.headers['content-type'] ?? '', body }),
      );
    }).on('error', reject);
  });
}

/** The value of `ebpf_tracepoint_hits_total{tracepoint="..."}` per tracepoint in a scrape. */
function hits(body: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const [, tracepoint, value] of body.matchAll(
    /^ebpf_tracepoint_hits_total\{tracepoint="([^"]+)"\} (\d+)$/gm,
  ))
    values[tracepoint!] = Number(value);
  return values;
}

requireKernel('prometheus-exporter example', () => {
  const scratch = new Scratch();
  const pinPath = `/sys/fs/bpf/ebpf-test-exporter-${process.pid}`;
  let object: string;

  beforeAll(() => {
    requireTools(['clang-16']);
    object = buildSource(scratch, new URL('./tracepoint-counts.bpf.c', import.meta.url), 'bpfel');
  });
  afterAll(() => {
    rmSync(pinPath, { recursive: true, force: true });
    scratch.dispose();
  });

  it('serves counts at /metrics that move between two scrapes', async () => {
    using exporter = new TracepointExporter({ tracepoints, object });
    const port = await exporter.listen(0, '127.0.0.1');

    const first = await scrape(port);
    expect(first.status).toBe(200);
    expect(first.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(first.body).toContain('# TYPE ebpf_tracepoint_hits_total counter');

    execFileSync('true'); // one fork, exec and exit; and syscalls, as always
    const second = await scrape(port);
    const [before, after] = [hits(first.body), hits(second.body)];
    expect(Object.keys(after).sort()).toEqual([...tracepoints].sort());
    for (const tracepoint of tracepoints) expect(after[tracepoint]).toBeGreaterThan(before[tracepoint] ?? 0);
  });

  it('answers other paths with 404 and where the metrics are', async () => {
    using exporter = new TracepointExporter({ tracepoints, object });
    const port = await exporter.listen(0, '127.0.0.1');
    expect(await scrape(port, '/')).toMatchObject({ status: 404, body: 'metrics are at GET /metrics\n' });
  });

  it('carries on from the pinned counts after a restart', () => {
    let before: bigint;
    {
      using exporter = new TracepointExporter({ tracepoints, object, pinPath });
      for (let i = 0; i < 10; i++) execFileSync('true');
      before = exporter.counts().get('sched:sched_process_exec')!;
      expect(before).toBeGreaterThanOrEqual(10n);
    }
    // A fresh map would start again near 0.
    using restarted = new TracepointExporter({ tracepoints, object, pinPath });
    expect(restarted.counts().get('sched:sched_process_exec')).toBeGreaterThanOrEqual(before);
  });

  it('refuses a tracepoint written without its category, saying how to write it', () => {
    expect(() => new TracepointExporter({ tracepoints: ['sched_switch'], object })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new TracepointExporter({ tracepoints: ['sched_switch'], object })).toThrow(
      /like sched:sched_switch/,
    );
  });
});
