/** Kernel failures carry errno, its name, the command and the kernel's meaning as a hint. */
import { spawnSync } from 'node:child_process';
import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { bpf, mmap, pageSize, SysError } from './index.ts';
import { packageRoot } from './native.ts';
import {
  Attr,
  BPF,
  buf,
  createMap,
  exit,
  loadProgram,
  MapType,
  movImm,
  ProgType,
  program,
  trackFds,
} from './test/helpers.ts';

const track = trackFds();

/** The SysError `fn` throws. */
function failure(fn: () => unknown): SysError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SysError) return e;
    throw e;
  }
  throw new Error('expected a SysError');
}

requireKernel('SysError from the running kernel', () => {
  it('EPERM without privileges: needs CAP_BPF or root, or memlock before 5.11', () => {
    // A child without capabilities that reports errno and command. It keeps this process's user,
    // so it reads the checkout wherever it lives (a 0700 folder, /root); `noroot` securebits keep
    // uid 0 from regaining capabilities on exec. (EPERM needs unprivileged_bpf_disabled, the
    // default since 5.16, or a kernel before 5.11 without memlock.)
    const script = `
      const sys = require('node-gyp-build')(${JSON.stringify(packageRoot)});
      sys.setErrorClass(class extends Error { constructor(errno, command) { super(); this.errno = errno; this.command = command; } });
      const a = new Uint8Array(96), d = new DataView(a.buffer);
      d.setUint32(0, 1, true); d.setUint32(4, 4, true); d.setUint32(8, 8, true); d.setUint32(12, 4, true);
      try { sys.bpf(0, a, []); console.log('{}'); }
      catch (e) { console.log(JSON.stringify({ errno: e.errno, command: e.command })); }`;
    const run = spawnSync(
      'setpriv',
      [
        '--securebits=+noroot,+noroot_locked,+no_setuid_fixup,+no_setuid_fixup_locked',
        '--inh-caps=-all',
        '--ambient-caps=-all',
        '--bounding-set=-all',
        process.execPath,
        '-e',
        script,
      ],
      { cwd: packageRoot, encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    const { errno, command } = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}');
    const seen = new SysError(errno, command);
    expect(seen).toMatchObject({ name: 'SysError', code: 'EPERM', errno: 1, command: 'BPF_MAP_CREATE' });
    expect(seen.hint).toMatch(/CAP_BPF/);
    expect(seen.hint).toMatch(/root/);
    expect(seen.hint).toMatch(/before 5\.11.*RLIMIT_MEMLOCK/);
  });

  it('E2BIG: a value too large for a hash map', () => {
    const e = failure(() => createMap(MapType.Hash, 4, 2 ** 30, 4));
    expect(e).toMatchObject({ code: 'E2BIG', errno: 7, command: 'BPF_MAP_CREATE' });
    expect(e.hint).toMatch(/key size, value size or max_entries/);
  });

  it('EINVAL: a map type this kernel does not know', () => {
    const e = failure(() => createMap(9999, 4, 8, 4));
    expect(e).toMatchObject({ code: 'EINVAL', errno: 22, command: 'BPF_MAP_CREATE' });
    expect(e.hint).toMatch(/unknown type or flag/);
  });

  it('ENOSPC: a verifier log buffer too small for the log', () => {
    const e = failure(() =>
      loadProgram(ProgType.Xdp, program(...Array(64).fill(movImm(0, 2)), exit()), buf(128), 2),
    );
    expect(e).toMatchObject({ code: 'ENOSPC', command: 'BPF_PROG_LOAD' });
    expect(e.hint).toMatch(/larger log_size/);
  });

  it('EACCES: the verifier rejects a program', () => {
    const e = failure(() => loadProgram(ProgType.Xdp, program(exit())));
    expect(e).toMatchObject({ code: 'EACCES', errno: 13, command: 'BPF_PROG_LOAD' });
    expect(e.hint).toMatch(/verifier/);
  });

  it('ENOENT, EEXIST, EBADF with their meaning for the command', () => {
    const fd = track(createMap(MapType.Hash, 4, 8, 4));
    const a = new Attr(16).u32(0, 0xfffffff0);
    expect(failure(() => bpf(BPF.MAP_GET_FD_BY_ID, a.bytes, []))).toMatchObject({
      code: 'ENOENT',
      hint: 'no map with this id',
    });
    expect(failure(() => bpf(BPF.MAP_FREEZE, new Attr(8).u32(0, 1_000_000).bytes, []))).toMatchObject({
      code: 'EBADF',
      hint: expect.stringMatching(/not an open fd/),
    });
    expect(fd).toBeGreaterThan(2);
  });

  it('mmap EPERM says which entry point maps read-only pages', () => {
    const rb = track(createMap(MapType.Ringbuf, 0, 0, 4 * pageSize()));
    const e = failure(() => mmap(rb, 3 * pageSize(), true, pageSize()));
    expect(e).toMatchObject({ code: 'EPERM', command: 'mmap' });
    expect(e.hint).toMatch(/mmapReadOnlyUnchecked/);
  });
});
