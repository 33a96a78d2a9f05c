import { Errno } from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import { errnoName, errnoNumber, hintFor, SysError } from './index.ts';

describe('SysError', () => {
  it('carries errno, code, command and hint, and says them in its message', () => {
    const e = new SysError(1, 'BPF_PROG_LOAD');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('SysError');
    expect(e.errno).toBe(1);
    expect(e.code).toBe('EPERM');
    expect(e.command).toBe('BPF_PROG_LOAD');
    expect(e.hint).toMatch(/CAP_BPF.*memlock|CAP_BPF.*RLIMIT_MEMLOCK/);
    expect(e.message).toBe(`BPF_PROG_LOAD failed: EPERM (operation not permitted): ${e.hint}`);
  });

  it('prefers the command-specific hint, falls back to the errno one, or has none', () => {
    expect(hintFor('BPF_MAP_UPDATE_ELEM', 'E2BIG')).toMatch(/full/);
    expect(hintFor('BPF_MAP_CREATE', 'E2BIG')).toMatch(/max_entries/);
    expect(hintFor('BPF_LINK_CREATE', 'E2BIG')).toMatch(/too large/);
    expect(new SysError(5, 'mmap').hint).toBeUndefined();
    expect(new SysError(5, 'mmap').message).toBe('mmap failed: EIO (i/o error)');
    expect(new SysError(2, 'x', { hint: 'custom', cause: 'c' })).toMatchObject({
      hint: 'custom',
      cause: 'c',
    });
  });

  it('names kernel-only errnos and unknown ones', () => {
    expect(errnoName(524)).toBe('ENOTSUPP');
    expect(errnoName(95)).toBe('EOPNOTSUPP');
    expect(errnoName(11)).toBe('EAGAIN');
    expect(errnoName(2)).toBe('ENOENT');
    expect(errnoName(9999)).toBe('E9999');
    expect(new SysError(524, 'BPF_PROG_TEST_RUN').hint).toMatch(/cannot be test-run/);
  });

  it('knows every errno of the kernel headers by name and number, aliases by name only', () => {
    for (const [name, errno] of Object.entries(Errno)) expect(errnoNumber(name), name).toBe(errno);
    expect(errnoName(Errno.EHWPOISON)).toBe('EHWPOISON');
    expect(errnoName(Errno.EWOULDBLOCK)).toBe('EAGAIN');
    expect(errnoName(Errno.EDEADLOCK)).toBe('EDEADLK');
    expect(errnoNumber('ENOTSUPP')).toBe(524);
    expect(errnoNumber('toString')).toBeUndefined();
    expect(new SysError(Errno.ERFKILL, 'x').message).toBe(
      'x failed: ERFKILL (operation not possible due to rf-kill)',
    );
  });
});
