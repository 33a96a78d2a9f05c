import { describe, expect, it } from 'vitest';
import { ErrnoError, extractErrno } from './errno.ts';

const base = {
  name: 'asm-generic/errno-base.h',
  text: '#define\tEPERM\t\t 1\t/* Operation not permitted */\n#define\tEAGAIN\t\t11\t/* Try again */\n',
};
const more = {
  name: 'asm-generic/errno.h',
  text: '#include <asm-generic/errno-base.h>\n#define\tEWOULDBLOCK\tEAGAIN\t/* Operation would block */\n#define\tEDEADLOCK\tEDEADLK\n',
};

describe('extractErrno', () => {
  it('reads numbers, descriptions and aliases, primaries first, then the kernel-internal facts', () => {
    const errno = extractErrno([base, { ...more, text: more.text.replace(/.*EDEADLOCK.*\n/, '') }]);
    expect(errno.slice(0, 3)).toEqual([
      { name: 'EPERM', value: 1, description: 'Operation not permitted', from: 'header' },
      { name: 'EAGAIN', value: 11, description: 'Try again', from: 'header' },
      {
        name: 'EWOULDBLOCK',
        value: 11,
        description: 'Operation would block',
        alias: 'EAGAIN',
        from: 'header',
      },
    ]);
    expect(errno.find((e) => e.name === 'ENOTSUPP')).toMatchObject({ value: 524, from: 'facts' });
  });

  it('refuses an alias of a name not defined before it', () => {
    expect(() => extractErrno([base, more])).toThrow(ErrnoError);
    expect(() => extractErrno([base, more])).toThrow(/EDEADLOCK aliases EDEADLK/);
  });
});
