import { describe, expect, it } from 'vitest';
import { cgroup2Mounts } from './cgroup.ts';

const hybrid = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

describe('cgroup2Mounts', () => {
  it('finds cgroup2 mounts in mountinfo, not cgroup v1 or tmpfs', () => {
    expect(cgroup2Mounts(hybrid)).toEqual(['/sys/fs/cgroup/unified']);
    expect(cgroup2Mounts('29 1 0:26 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n')).toEqual(
      ['/sys/fs/cgroup'],
    );
  });

  it('decodes octal escapes and finds nothing where nothing is mounted', () => {
    expect(cgroup2Mounts('50 1 0:40 / /mnt/my\\040cgroups rw - cgroup2 none rw\n')).toEqual([
      '/mnt/my cgroups',
    ]);
    expect(cgroup2Mounts(hybrid.split('\n').slice(0, 2).join('\n'))).toEqual([]);
    expect(cgroup2Mounts('')).toEqual([]);
  });
});
