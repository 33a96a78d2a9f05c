/**
 * The published tarball carries the prebuilt addon: `npm pack`, install the tarball with
 * `--ignore-scripts` (nothing compiled) into a fresh directory, and load it there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from './native.ts';

const work = mkdtempSync(join(tmpdir(), 'ebpf-sys-tarball-'));
const prebuildDir = join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`);

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

let tarball = '';
let files: string[] = [];

beforeAll(() => {
  // The package's build makes the prebuild and dist/; build once if this checkout has neither.
  const hasPrebuild = existsSync(prebuildDir) && readdirSync(prebuildDir).some((f) => f.endsWith('.node'));
  if (!hasPrebuild || !existsSync(join(packageRoot, 'dist', 'index.js')))
    run('pnpm', ['run', 'build'], packageRoot);
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], packageRoot)) as {
    filename: string;
    files: { path: string }[];
  }[];
  tarball = join(work, packed[0]?.filename ?? '');
  files = (packed[0]?.files ?? []).map((f) => f.path);
}, 300_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('contains the prebuild, the sources to build from, and the compiled JS', () => {
    expect(files).toContain(`prebuilds/${process.platform}-${process.arch}/@ebpf+sys.node`);
    expect(files).toContain('binding.gyp');
    for (const f of [
      'addon.cc',
      'bpf.cc',
      'maps.cc',
      'mmap.cc',
      'perf.cc',
      'poll.cc',
      'socket.cc',
      'limits.cc',
      'errors.cc',
      'errors.h',
      'bpf.h',
    ]) {
      expect(files).toContain(`src/${f}`);
    }
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(
      files.filter((f) => f.includes('.test.') || f.startsWith('build/') || f.startsWith('src/test/')),
    ).toEqual([]);
  });

  it('installs with --ignore-scripts and loads the prebuild', () => {
    const app = join(work, 'app');
    run('mkdir', ['-p', app], work);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tarball], app);
    const installed = join(app, 'node_modules', '@ebpf', 'sys');
    expect(existsSync(join(installed, 'build'))).toBe(false); // nothing was compiled
    const out = run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('@ebpf/sys'); console.log(JSON.stringify({ napi: m.napiVersion, cpus: m.possibleCpus(), kind: m.fdKind(0), err: new m.SysError(2, 'BPF_OBJ_GET').code }));",
      ],
      app,
    );
    const seen = JSON.parse(out.trim()) as { napi: number; cpus: number; kind: string; err: string };
    expect(seen.napi).toBe(8);
    expect(seen.cpus).toBeGreaterThan(0);
    expect(seen.err).toBe('ENOENT');
  });
});
