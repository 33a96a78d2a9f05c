/**
 * The exporter of one node: counts kernel tracepoint hits and serves them at /metrics.
 * `sudo node dist/main.js [--port 9464] [--host 0.0.0.0] [--pin-path DIR | --no-pin] [tracepoint...]`;
 * the environment variables PORT and TRACEPOINTS (comma-separated) set the same in a container.
 */
import { parseArgs } from 'node:util';
import { defaultTracepoints, TracepointExporter } from './exporter.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: process.env.PORT ?? '9464' },
    host: { type: 'string' },
    'pin-path': { type: 'string', default: '/sys/fs/bpf/ebpf-tracepoint-exporter' },
    'no-pin': { type: 'boolean', default: false },
  },
});
const fromEnv = process.env.TRACEPOINTS?.split(',').filter(Boolean);
const tracepoints = positionals.length > 0 ? positionals : (fromEnv ?? defaultTracepoints);

const exporter = new TracepointExporter({
  tracepoints,
  ...(values['no-pin'] ? {} : { pinPath: values['pin-path'] }),
});
const port = await exporter.listen(Number(values.port), values.host);
console.log(
  `counting ${tracepoints.join(', ')}; metrics at http://${values.host ?? '0.0.0.0'}:${port}/metrics`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => exporter.close());
