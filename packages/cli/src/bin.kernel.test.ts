/**
 * End-to-end tests of the built `ebpf` binary, run as a child process the way a user runs it.
 * The demo runs in a network namespace of its own (whose `lo` nobody else uses), so it neither
 * disturbs nor is disturbed by anything on the host's loopback. The tests in this file run in
 * order, one at a time.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { exit, mov64, R0 } from '@ebpf/asm';
import { BpfMap, BpfProgram } from '@ebpf/core';
import { NetworkNamespace, requireKernel } from '@ebpf/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(packageDir, 'dist', 'bin.js');
const work = mkdtempSync(join(tmpdir(), 'ebpf-cli-e2e-'));

/** Modification time of the newest non-test source under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * Builds the CLI and what it imports when `dist/` is missing (turbo's test task builds first
 * anyway), and rebuilds the CLI alone when its sources are newer than its build.
 */
function ensureBuilt(): void {
  if (!existsSync(bin)) {
    execFileSync('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@ebpf/cli...'], {
      cwd: packageDir,
      stdio: 'inherit',
    });
  } else if (newestSource(join(packageDir, 'src')) > statSync(bin).mtimeMs) {
    // tsc emits even when a dependency under construction has type errors; what matters here is
    // that the CLI's own files were rewritten.
    const r = spawnSync('pnpm', ['exec', 'tsc', '-p', 'tsconfig.build.json'], {
      cwd: packageDir,
      encoding: 'utf8',
    });
    if (newestSource(join(packageDir, 'src')) > statSync(bin).mtimeMs) {
      throw new Error(`rebuilding the CLI failed:\n${r.stdout}${r.stderr}`);
    }
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function ebpf(args: string[], options: { netns?: string; noCaps?: boolean; input?: Buffer } = {}): Run {
  const argv = [bin, ...args];
  // noCaps: still root, but with an empty capability bounding set, as a user without CAP_BPF.
  const [cmd, cmdArgs] = options.netns
    ? ['ip', ['netns', 'exec', options.netns, process.execPath, ...argv]]
    : options.noCaps
      ? ['setpriv', ['--bounding-set=-all', '--inh-caps=-all', process.execPath, ...argv]]
      : [process.execPath, argv];
  const r = spawnSync(cmd as string, cmdArgs as string[], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '' },
    timeout: 60_000,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json<T>(r: Run): T {
  if (r.code !== 0) throw new Error(`ebpf exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

beforeAll(ensureBuilt, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('ebpf without the kernel', () => {
  it('prints help and exits 0, and exits 2 on an unknown command', () => {
    const help = ebpf(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: ebpf');
    const bad = ebpf(['frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown command 'frobnicate'");
  });

  it('assembles and disassembles, round trip', () => {
    const source = [
      'r6 = r1',
      'r2 = *(u32 *)(r6 + 0)',
      'r3 = *(u32 *)(r6 + 4)',
      'r4 = r2',
      'r4 += 14',
      'if r4 > r3 goto +2',
      'r0 = 2',
      'exit',
      'r0 = 1',
      'exit',
    ];
    const src = join(work, 'roundtrip.s');
    const out = join(work, 'roundtrip.bin');
    writeFileSync(src, `${source.join('\n')}\n`);
    const asm = ebpf(['asm', src, '-o', out]);
    expect(asm.code).toBe(0);
    const bytes = readFileSync(out);
    expect(bytes.length).toBe(source.length * 8);
    const dis = ebpf(['disasm', out]);
    expect(dis.code).toBe(0);
    expect(dis.stdout.trim().split('\n')).toHaveLength(source.length);
    expect(dis.stdout).toContain('if r4 > r3 goto +0x2');
    // The listing assembles back to the same bytes.
    const again = join(work, 'again.s');
    writeFileSync(again, dis.stdout);
    expect(ebpf(['asm', again, '-o', join(work, 'again.bin')]).code).toBe(0);
    expect(readFileSync(join(work, 'again.bin')).equals(bytes)).toBe(true);
    // and from standard input
    const fromStdin = ebpf(['disasm', '-'], { input: bytes });
    expect(fromStdin.stdout).toBe(dis.stdout);
  });

  it('reports an assembly error with file, line and column, exit 4', () => {
    const src = join(work, 'bad.s');
    writeFileSync(src, 'r0 = 1\nr0 +== 2\nexit\n');
    const r = ebpf(['asm', src]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/bad\.s:2:\d+:/);
  });
});

requireKernel('ebpf against the running kernel', () => {
  it('exits 77 with what to do when run without privileges', () => {
    const r = ebpf(['prog', 'list'], { noCaps: true });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/root/);
    expect(r.stderr).toMatch(/CAP_BPF|cap_bpf/);
  });

  it('lists and shows a program loaded by another process, and dumps it', () => {
    using prog = BpfProgram.load({
      type: 'xdp',
      instructions: [mov64(R0, 2), exit()],
      license: 'GPL',
      name: 'cli_e2e_probe',
    });
    const id = prog.info().id;
    const list = json<Array<{ id: number; name: string; type: string; tag: string }>>(
      ebpf(['prog', 'list', '--json']),
    );
    const mine = list.find((p) => p.id === id);
    expect(mine).toMatchObject({ id, name: 'cli_e2e_probe', type: 'xdp' });

    const table = ebpf(['prog', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^\\s*${id}\\s+xdp\\s+cli_e2e_probe\\s`, 'm'));

    // On an 80-column terminal every line fits (a pipe gets whole cells, as above).
    const narrow = spawnSync(
      'script',
      ['-qec', `stty cols 80 rows 40; exec ${process.execPath} ${bin} prog list`, '/dev/null'],
      { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 },
    );
    const lines = narrow.stdout.replace(/\r/g, '').trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);

    const show = json<{ id: number; insnCount: number }>(ebpf(['prog', 'show', String(id), '--json']));
    expect(show).toMatchObject({ id, insnCount: 2 });

    const dump = ebpf(['prog', 'dump', String(id)]);
    expect(dump.code).toBe(0);
    expect(
      dump.stdout
        .trim()
        .split('\n')
        .map((l) => l.trim()),
    ).toEqual(['0: r0 = 0x2', '1: exit']);

    const jited = ebpf(['prog', 'dump', String(id), '--jited']);
    expect(jited.code).toBe(0);
    expect(jited.stdout.length).toBeGreaterThan(0);
  });

  it('exits 3 for a program id that does not exist', () => {
    const r = ebpf(['prog', 'show', '4294967295']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('4294967295');
  });

  it('lists, shows and dumps a map created by another process', () => {
    using map = BpfMap.create({
      type: 'hash',
      keySize: 4,
      valueSize: 8,
      maxEntries: 4,
      name: 'cli_e2e_map',
    });
    map.set(Uint8Array.of(1, 0, 0, 0), Uint8Array.of(0xaa, 0, 0, 0, 0, 0, 0, 0xbb));
    const id = map.info().id;
    const list = json<Array<{ id: number; name: string; type: string }>>(ebpf(['map', 'list', '--json']));
    expect(list.find((m) => m.id === id)).toMatchObject({ name: 'cli_e2e_map', type: 'hash' });
    const show = json<{ keySize: number; valueSize: number; maxEntries: number }>(
      ebpf(['map', 'show', String(id), '--json']),
    );
    expect(show).toMatchObject({ keySize: 4, valueSize: 8, maxEntries: 4 });
    const dump = json<Array<{ key: string; value: string }>>(ebpf(['map', 'dump', String(id), '--json']));
    expect(dump).toEqual([{ key: '01000000', value: 'aa000000000000bb' }]);
  });

  it('test-runs a program and prints its return value', () => {
    const src = join(work, 'drop.s');
    writeFileSync(src, 'r0 = 1\nexit\n');
    const data = '00'.repeat(14);
    const r = json<{ retval: number; action: string; dataOut: string }>(
      ebpf(['run', src, '--type', 'xdp', '--data', data, '--repeat', '10', '--json']),
    );
    expect(r).toMatchObject({ retval: 1, action: 'XDP_DROP', dataOut: data });
    const text = ebpf(['run', src, '--data', data]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/retval:\s+1 \(XDP_DROP\)/);
  });

  it('colours its output on a terminal only, and never with NO_COLOR', () => {
    const src = join(work, 'colour.s');
    writeFileSync(src, 'r0 = 1\nexit\n');
    const command = `exec ${process.execPath} ${bin} run ${src} --data ${'00'.repeat(14)}`;
    const onTerminal = (env: NodeJS.ProcessEnv) =>
      spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', env, timeout: 30_000 }).stdout;
    const { NO_COLOR: _n, FORCE_COLOR: _f, ...plainEnv } = process.env;
    const coloured = (text: string) => stripVTControlCharacters(text) !== text;
    const plain = onTerminal({ ...plainEnv, TERM: 'xterm', NO_COLOR: '1' });
    expect(coloured(onTerminal({ ...plainEnv, TERM: 'xterm' }))).toBe(true);
    expect(plain).toMatch(/retval:\s+1/);
    expect(coloured(plain)).toBe(false);
    const piped = spawnSync(process.execPath, [bin, 'run', src, '--data', '00'.repeat(14)], {
      encoding: 'utf8',
      env: { ...plainEnv, TERM: 'xterm' },
    });
    expect(piped.stdout).toMatch(/retval:\s+1/);
    expect(coloured(piped.stdout)).toBe(false);
  });

  it('exits 2 for an unknown program type, 69 for a type the kernel cannot test-run', () => {
    const src = join(work, 'drop.s');
    const bogus = ebpf(['run', src, '--type', 'bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("unknown program type 'bogus'");
    const kprobe = ebpf(['run', src, '--type', 'kprobe']);
    expect(kprobe.code).toBe(69);
    expect(kprobe.stderr).toMatch(/not supported/);
  });

  it('test-runs bytecode from a .bin file, with data from a file', () => {
    const bytecode = join(work, 'pass.bin');
    writeFileSync(bytecode, Buffer.from('b7000000020000009500000000000000', 'hex'));
    const packet = join(work, 'packet.bin');
    writeFileSync(packet, Buffer.alloc(60, 0x11));
    const r = json<{ retval: number; action: string; dataOut: string }>(
      ebpf(['run', bytecode, '--data', `@${packet}`, '--json']),
    );
    expect(r).toMatchObject({ retval: 2, action: 'XDP_PASS', dataOut: '11'.repeat(60) });
  });

  it('says a map the program names is missing, and takes it pinned with --map', () => {
    const src = join(work, 'count.s');
    writeFileSync(
      src,
      [
        '*(u32 *)(r10 - 0x4) = 0x0',
        'r1 = counts ll',
        'r2 = r10',
        'r2 += -0x4',
        'call 0x1',
        'if r0 == 0x0 goto +0x2',
        'r1 = 0x1',
        'lock *(u64 *)(r0 + 0x0) += r1',
        'r0 = 0x2',
        'exit',
        '',
      ].join('\n'),
    );
    const missing = ebpf(['run', src, '--data', '00'.repeat(14)]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /refers to map 'counts', which is missing: give each with --map counts=<pinned path>/,
    );
    using counts = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    const pin = `/sys/fs/bpf/ebpf-cli-run-${process.pid}`;
    counts.pin(pin);
    try {
      const r = json<{ retval: number }>(
        ebpf(['run', src, '--map', `counts=${pin}`, '--data', '00'.repeat(14), '--repeat', '3', '--json']),
      );
      expect(r.retval).toBe(2);
      const value = counts.get(new Uint8Array(4));
      expect(value && Buffer.from(value).readBigUInt64LE()).toBe(3n);
    } finally {
      rmSync(pin);
    }
  });

  it('says an ELF object is not raw instructions, for run and disasm', () => {
    const elf = join(work, 'prog.o');
    writeFileSync(elf, Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01', 'latin1'), Buffer.alloc(57)]));
    for (const command of ['run', 'disasm']) {
      const r = ebpf([command, elf]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/this is an ELF object file, not raw instructions/);
    }
  });

  it('test-runs a raw tracepoint program on a context', () => {
    const rawTp = join(work, 'raw-tp.s');
    writeFileSync(rawTp, 'r0 = *(u64 *)(r1 + 0x0)\nexit\n');
    const r = json<{ retval: number }>(
      ebpf(['run', rawTp, '--type', 'raw_tracepoint', '--context', `2a${'00'.repeat(15)}`, '--json']),
    );
    expect(r.retval).toBe(42);
  });

  it('prints a verifier rejection with the failing instruction marked, exit 4', () => {
    const src = join(work, 'reject.s');
    writeFileSync(src, 'r0 = *(u32 *)(r2 + 0x0)\nexit\n');
    const r = ebpf(['run', src, '--data', '00'.repeat(14)]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/verifier rejected/);
    expect(r.stderr).toMatch(/>\s+0: [rw]0 = \*\(u32 \*\)\(r2 \+ 0x0\)\s+<-- R2 !read_ok/);
  });

  it('prints the kernel features as JSON', () => {
    const report = json<{
      kernel: string;
      programTypes: Record<string, boolean>;
      mapTypes: Record<string, boolean>;
      helpers: Record<string, string[]>;
    }>(ebpf(['feature', '--json', '--type', 'xdp']));
    expect(report.programTypes.xdp).toBe(true);
    expect(report.mapTypes.percpu_array).toBe(true);
    expect(report.helpers.xdp).toContain('bpf_xdp_get_buff_len');
  });

  it('lists helpers per program type only where the probe means something', () => {
    const report = json<{
      programTypes: Record<string, boolean>;
      helpers: Record<string, string[]>;
      helpersNotProbed?: Record<string, string>;
    }>(ebpf(['feature', '--json']));
    // Every supported type is either listed with its helpers or said to be unprobeable.
    for (const [type, ok] of Object.entries(report.programTypes))
      if (ok) expect(report.helpers[type] ?? report.helpersNotProbed?.[type]).toBeDefined();
    expect(report.helpers.xdp).toContain('bpf_xdp_adjust_head');
    expect(report.helpers.xdp).not.toContain('bpf_skb_store_bytes');
    // The kernel refuses struct_ops probe programs before looking at their calls: no list of
    // "all helpers" for them. Syscall programs are probed sleepable, so their list is real.
    expect(report.helpers.struct_ops).toBeUndefined();
    expect(report.helpersNotProbed?.struct_ops).toMatch(/before it looks at its calls/);
    expect(report.helpers.syscall).toContain('bpf_map_lookup_elem');
    expect(report.helpers.syscall).not.toContain('bpf_xdp_adjust_head');
    const text = ebpf(['feature', '--type', 'struct_ops']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^struct_ops \(helpers not probed\)$/m);
  });

  it('feature: exit 2 for an unknown program type, 77 with what to do without privileges', () => {
    const bogus = ebpf(['feature', '--type', 'bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("unknown program type 'bogus'");
    const unprivileged = ebpf(['feature'], { noCaps: true });
    expect(unprivileged.code).toBe(77);
    expect(unprivileged.stdout).toBe('');
    expect(unprivileged.stderr).toMatch(/cannot probe the kernel/);
    expect(unprivileged.stderr).toMatch(/setcap cap_bpf/);
    // With --json the error is the output: one JSON object, same exit code.
    const asJson = ebpf(['feature', '--json'], { noCaps: true });
    expect(asJson.code).toBe(77);
    expect(JSON.parse(asJson.stdout).error).toMatchObject({
      exitCode: 77,
      message: expect.stringMatching(/cannot probe the kernel/),
    });
  });

  describe('the XDP demo, in a network namespace of its own', () => {
    const netns = `ebpf-cli-e2e-${process.pid}`;
    let namespace: NetworkNamespace | undefined;
    beforeAll(() => {
      namespace = new NetworkNamespace(netns);
    });
    afterAll(() => namespace?.remove());

    const xdpOnLo = () => execFileSync('ip', ['-n', netns, '-d', 'link', 'show', 'lo'], { encoding: 'utf8' });

    interface Report {
      iface: string;
      linkId: number;
      progId: number;
      counters: Record<string, { packets: number; bytes: number }>;
      sent: { udp: number; tcpConnections: number; icmp: number; icmp6: number };
      stoppedBy: string;
    }

    it('counts the packets it sent itself and leaves lo as it was', () => {
      const before = xdpOnLo();
      expect(before).not.toMatch(/xdp/);
      const report = json<Report>(ebpf(['demo', 'xdp', '--duration', '3', '--json'], { netns }));
      expect(report.iface).toBe('lo');
      expect(report.sent.udp).toBeGreaterThanOrEqual(3 * 2 * 20 - 1);
      expect(report.counters.udp!.packets).toBeGreaterThanOrEqual(report.sent.udp);
      expect(report.counters.udp!.bytes).toBeGreaterThanOrEqual(report.sent.udp * (14 + 20 + 8 + 256));
      // Each TCP connection: at least SYN, SYN-ACK, ACK, data, FIN.
      expect(report.sent.tcpConnections).toBeGreaterThanOrEqual(3);
      expect(report.counters.tcp!.packets).toBeGreaterThanOrEqual(report.sent.tcpConnections * 5);
      // Each echo request has its reply on lo too.
      expect(report.counters.icmp!.packets).toBeGreaterThanOrEqual(report.sent.icmp * 2);
      expect(report.counters.icmpv6!.packets).toBeGreaterThanOrEqual(report.sent.icmp6 * 2);
      expect(xdpOnLo()).toBe(before);
      expect(ebpf(['link', 'show', String(report.linkId)]).code).toBe(3);
      expect(ebpf(['prog', 'show', String(report.progId)]).code).toBe(3);
    });

    /** Starts `ebpf demo xdp --json` in the namespace and resolves once its program is attached. */
    async function startDemo() {
      const child: ChildProcess = spawn(
        'ip',
        ['netns', 'exec', netns, process.execPath, bin, 'demo', 'xdp', '--json'],
        {
          env: { ...process.env, NO_COLOR: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const output = { stdout: '', stderr: '' };
      child.stdout!.on('data', (d) => {
        output.stdout += d;
      });
      child.stderr!.on('data', (d) => {
        output.stderr += d;
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 15_000;
      while (!/xdp/.test(xdpOnLo())) {
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`the demo never attached: ${output.stderr}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return { child, exited, output };
    }

    it.each(['SIGINT', 'SIGTERM'] as const)(
      'detaches on %s: no XDP link is left on lo',
      async (signal) => {
        const demo = await startDemo();
        const links = json<Array<{ id: number; type: string; progId: number }>>(
          ebpf(['link', 'list', '--json']),
        );
        await new Promise((r) => setTimeout(r, 1200));
        demo.child.kill(signal);
        const code = await demo.exited;
        expect(demo.output.stderr).toBe('');
        expect(code).toBe(0);
        const report = JSON.parse(demo.output.stdout) as Report;
        expect(report.stoppedBy).toBe(signal);
        expect(report.counters.udp!.packets).toBeGreaterThan(0);
        expect(
          links.some((l) => l.id === report.linkId && l.type === 'xdp' && l.progId === report.progId),
        ).toBe(true);
        expect(xdpOnLo()).not.toMatch(/xdp/);
        const after = json<Array<{ id: number }>>(ebpf(['link', 'list', '--json']));
        expect(after.some((l) => l.id === report.linkId)).toBe(false);
      },
      30_000,
    );

    it('refuses to attach over another XDP program, and leaves that one in place', async () => {
      const first = await startDemo();
      try {
        const before = xdpOnLo();
        const second = ebpf(['demo', 'xdp', '--duration', '1'], { netns });
        expect(second.code).toBe(1);
        expect(second.stderr).toMatch(/another XDP program is attached/);
        expect(xdpOnLo()).toBe(before);
      } finally {
        first.child.kill('SIGINT');
        expect(await first.exited).toBe(0);
      }
      expect(xdpOnLo()).not.toMatch(/xdp/);
    }, 30_000);

    it('needs neither bpffs nor tracefs, and mounts neither', () => {
      // `ip netns exec` gives the command a fresh /sys, where neither is mounted.
      const mounted = / (\/sys\/fs\/bpf|\/sys\/kernel\/tracing) /;
      const script = `grep -cE ' (/sys/fs/bpf|/sys/kernel/tracing) ' /proc/self/mounts; "$@" >/dev/null; echo "exit $?"; grep -E ' (/sys/fs/bpf|/sys/kernel/tracing) ' /proc/self/mounts; true`;
      const r = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          netns,
          'sh',
          '-c',
          script,
          'sh',
          process.execPath,
          bin,
          'demo',
          'xdp',
          '--duration',
          '1',
          '--json',
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
      expect(r.stdout.split('\n')[0]).toBe('0');
      expect(r.stdout).toContain('exit 0');
      expect(r.stdout).not.toMatch(mounted);
    });

    it('shows a live table on a terminal, redrawn each second, then detaches', () => {
      // `script` gives the demo a pseudo-terminal, as a user's shell would.
      const command = `stty cols 100 rows 30; exec ${process.execPath} ${bin} demo xdp --duration 3`;
      const r = spawnSync('ip', ['netns', 'exec', netns, 'script', '-qec', command, '/dev/null'], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '' },
        timeout: 30_000,
      });
      expect(r.status).toBe(0);
      const frames = r.stdout.match(/\ds of 3s, Ctrl-C to stop/g) ?? [];
      expect(frames.length).toBeGreaterThanOrEqual(3);
      expect(r.stdout).toMatch(/PROTOCOL\s+PACKETS\s+BYTES\s+PKT\/S\s+BYTES\/S\s+SHARE/);
      expect(r.stdout).toMatch(/^UDP\s+[1-9]/m);
      expect(r.stdout).toContain('detached from lo');
      expect(xdpOnLo()).not.toMatch(/xdp/);
    }, 30_000);

    it('pnpm start: the table on Ctrl-C (SIGINT to the whole process group), exit 0, lo as before', async () => {
      const root = join(packageDir, '..', '..');
      const child = spawn('ip', ['netns', 'exec', netns, 'pnpm', 'start'], {
        cwd: root,
        detached: true, // its own process group, which a terminal's Ctrl-C signals as a whole
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d) => {
        stdout += d;
      });
      child.stderr!.on('data', (d) => {
        stderr += d;
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 20_000;
      while (!/xdp/.test(xdpOnLo())) {
        if (Date.now() > deadline) {
          process.kill(-child.pid!, 'SIGKILL');
          throw new Error(`pnpm start never attached: ${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 1500));
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited).toBe(0);
      expect(stdout).toMatch(/XDP packet counter on lo \(generic mode\)/);
      expect(stdout).toMatch(/^UDP\s+[1-9]/m);
      expect(xdpOnLo()).not.toMatch(/xdp/);
    }, 40_000);

    it('says which interfaces exist when asked for one that does not, exit 3', () => {
      const r = ebpf(['demo', 'xdp', '--iface', 'nope0', '--duration', '1'], { netns });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("no network interface named 'nope0' (interfaces here: lo)");
    });
  });
});
