/**
 * The published tarball carries the prebuilt addon: `pnpm pack` it (as `pnpm publish` does),
 * install the tarball into a fresh directory with a PATH that has node and npm but no compiler, make or python (as on a machine
 * without build tools), with and without `--ignore-scripts`, and load it there. Where no prebuild
 * fits (the tarball repacked without `prebuilds/`), `pnpm install` builds it from source.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnsupported } from '@ebpf/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from './native.ts';

const work = mkdtempSync(join(tmpdir(), 'ebpf-sys-tarball-'));
const uapiRoot = join(packageRoot, '..', 'uapi');
const prebuildDir = join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`);

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240_000, env });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Debian's cross toolchain is here, so the package's build makes the linux-arm64 prebuild too. */
const canCrossCompile = spawnSync('sh', ['-c', 'command -v aarch64-linux-gnu-g++']).status === 0;
const arm64Prebuild = 'prebuilds/linux-arm64/@ebpf+sys.node';

let tarball = '';
/** @ebpf/uapi's tarball: @ebpf/sys depends on it (errno names), so every install gets both. */
let uapiTarball = '';
let files: string[] = [];

/** `pnpm pack` (which turns `workspace:` ranges into versions) of the package at `dir`. */
function pack(dir: string): { filename: string; files: { path: string }[] } {
  return JSON.parse(run('pnpm', ['pack', '--json', '--pack-destination', work], dir));
}

beforeAll(() => {
  // The package's build makes the prebuild and dist/; build once if this checkout has neither.
  const hasPrebuild = existsSync(prebuildDir) && readdirSync(prebuildDir).some((f) => f.endsWith('.node'));
  if (!hasPrebuild || !existsSync(join(packageRoot, 'dist', 'index.js')))
    run('pnpm', ['run', 'build'], packageRoot);
  else if (canCrossCompile && !existsSync(join(packageRoot, arm64Prebuild)))
    run('pnpm', ['run', 'build:native:arm64'], packageRoot);
  run('pnpm', ['run', 'build'], uapiRoot);
  uapiTarball = pack(uapiRoot).filename;
  const packed = pack(packageRoot);
  tarball = packed.filename;
  files = packed.files.map((f) => f.path);
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

  const buildTools = ['gcc', 'g++', 'cc', 'c++', 'clang', 'make', 'python3', 'python', 'node-gyp'];

  /** An environment whose PATH holds node, npm and sh only: no compiler, make or python. */
  function withoutCompiler(): NodeJS.ProcessEnv {
    const bin = join(work, 'bin');
    if (!existsSync(bin)) {
      mkdirSync(bin);
      symlinkSync(process.execPath, join(bin, 'node'));
      const npmCli = spawnSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], { encoding: 'utf8' });
      symlinkSync(npmCli.stdout.trim(), join(bin, 'npm'));
      symlinkSync('/bin/sh', join(bin, 'sh')); // npm runs install scripts through sh
    }
    const env: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: bin, npm_config_update_notifier: 'false' };
    for (const tool of buildTools) {
      const found = spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { env, encoding: 'utf8' });
      expect(found.status, `${tool} is still on PATH: ${found.stdout}`).not.toBe(0);
    }
    return env;
  }

  /** A fresh app directory with `package.json` (and any other files given). */
  function app(name: string, files: Record<string, string> = {}): string {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    return dir;
  }

  const probe =
    "const m = await import('@ebpf/sys'); console.log(JSON.stringify({ napi: m.napiVersion, cpus: m.possibleCpus(), kind: m.fdKind(0), err: new m.SysError(2, 'BPF_OBJ_GET').code }));";

  function expectLoads(dir: string, env: NodeJS.ProcessEnv): void {
    const out = run(process.execPath, ['--input-type=module', '-e', probe], dir, env);
    const seen = JSON.parse(out.trim()) as { napi: number; cpus: number; kind: string; err: string };
    expect(seen.napi).toBe(8);
    expect(seen.cpus).toBeGreaterThan(0);
    expect(seen.err).toBe('ENOENT');
  }

  const npmInstall = ['install', '--no-audit', '--no-fund', '--prefer-offline'];

  // tools/setup.sh installs the cross compiler, so under CI its absence is a failure, not a skip.
  const noCrossCompiler =
    canCrossCompile || process.env.CI === 'true'
      ? undefined
      : 'no aarch64-linux-gnu-g++ (tools/setup.sh installs it)';
  it.skipIf(skipUnsupported(noCrossCompiler))('carries a linux-arm64 prebuild, an aarch64 ELF object', () => {
    expect(files).toContain(arm64Prebuild);
    const unpacked = join(work, 'contents');
    mkdirSync(unpacked);
    run('tar', ['xzf', tarball, '-C', unpacked], work);
    const elf = readFileSync(join(unpacked, 'package', arm64Prebuild));
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf.readUInt16LE(18)).toBe(183); // e_machine: EM_AARCH64
  });

  it('installs with --ignore-scripts without a compiler on PATH and loads the prebuild', () => {
    const env = withoutCompiler();
    const dir = app('ignore-scripts');
    run('npm', [...npmInstall, '--ignore-scripts', uapiTarball, tarball], dir, env);
    const installed = join(dir, 'node_modules', '@ebpf', 'sys');
    expect(existsSync(join(installed, 'build'))).toBe(false); // nothing was compiled
    expectLoads(dir, env);
  });

  it('installs with its install script and no compiler: node-gyp-build takes the prebuild', () => {
    const env = withoutCompiler();
    const dir = app('with-scripts');
    run('npm', [...npmInstall, uapiTarball, tarball], dir, env);
    expect(existsSync(join(dir, 'node_modules', '@ebpf', 'sys', 'build'))).toBe(false);
    expectLoads(dir, env);
  });

  describe('where no prebuild fits', () => {
    let bare = '';
    beforeAll(() => {
      // The same tarball without prebuilds/, as on a platform nothing was prebuilt for.
      const unpacked = join(work, 'bare');
      mkdirSync(unpacked);
      run('tar', ['xzf', tarball, '-C', unpacked], work);
      rmSync(join(unpacked, 'package', 'prebuilds'), { recursive: true, force: true });
      bare = join(work, 'bare.tgz');
      run('tar', ['czf', bare, '-C', unpacked, 'package'], work);
    });

    it('pnpm install builds it from source', () => {
      // pnpm 10 runs dependency build scripts only when allowed.
      // @ebpf/uapi is not on a registry here: its tarball stands in for it.
      const workspace = `dangerouslyAllowAllBuilds: true\noverrides:\n  '@ebpf/uapi': 'file:${uapiTarball}'\n`;
      const dir = app('from-source', { 'pnpm-workspace.yaml': workspace });
      run('pnpm', ['add', '--prefer-offline', bare], dir);
      const installed = join(dir, 'node_modules', '@ebpf', 'sys');
      expect(existsSync(join(installed, 'build', 'Release', 'ebpf_sys.node'))).toBe(true);
      expectLoads(dir, process.env);
    }, 300_000);

    it('without a build, loading says how to get one', () => {
      const env = withoutCompiler();
      const dir = app('no-build');
      run('npm', [...npmInstall, '--ignore-scripts', uapiTarball, bare], dir, env);
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
        cwd: dir,
        env,
        encoding: 'utf8',
      });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/no prebuilt addon fits linux-x64/);
      expect(r.stderr).toMatch(/approve-builds/);
      expect(r.stderr).toMatch(/rebuild @ebpf\/sys/);
    });
  });
});
