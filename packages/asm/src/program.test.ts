import { describe, expect, it } from 'vitest';
import {
  add64,
  assemble,
  assembleProgram,
  callFunc,
  callKfunc,
  decode,
  disassemble,
  encode,
  encodeInto,
  exit,
  func,
  ja,
  jne,
  label,
  ldFuncAddr,
  ldMapFd,
  ldMapValue,
  link,
  matchesTag,
  mov64,
  type Program,
  PseudoSrc,
  programTag,
  R0,
  R1,
  R2,
  resolveMaps,
  withMeta,
} from './index.ts';

describe('link', () => {
  const items = [
    mov64(R0, 0),
    label('loop'),
    add64(R0, 1),
    jne(R0, 10, 'loop'),
    ja('out'),
    mov64(R0, -1),
    label('out'),
    exit(),
  ];

  it('resolves jump offsets in slots and records labels', () => {
    const p = link(items);
    expect(p.instructions.map((i) => i.off)).toEqual([0, 0, -2, 1, 0, 0]);
    expect([...p.labels]).toEqual([
      ['loop', 1],
      ['out', 5],
    ]);
    expect(p.instructions[1]!.symbol).toBe('loop');
    expect(p.slots).toBe(6);
  });

  it('is idempotent: linking linked output changes nothing', () => {
    const p = link(items);
    expect(link(p.instructions).instructions).toEqual(p.instructions);
  });

  it('counts lddw as two slots', () => {
    const p = link([jne(R1, 0, 'x'), ldMapFd(R1, 'm'), label('x'), exit()]);
    expect(p.instructions[0]!.off).toBe(2);
  });

  it('resolves BPF-to-BPF calls and function addresses, and tags functions', () => {
    const p = link([callFunc('f'), ldFuncAddr(R2, 'f'), exit(), func('f'), mov64(R0, 1), exit()]);
    expect(p.instructions[0]!.imm).toBe(3);
    expect(p.instructions[1]!.imm).toBe(2n); // the kernel's rule: target = slot + imm + 1
    expect(p.instructions.slice(3).map((i) => i.meta?.func)).toEqual(['f', 'f']);
    expect(disassemble(p)).toBe('call +0x3 <f>\nld_pseudo r2, 0x4, 0x2 <f>\nexit\nf:\nr0 = 0x1\nexit\n');
  });

  it('encode links builders output with labels on its own', () => {
    expect(encode(items)).toEqual(link(items).encode());
  });

  it('keeps metadata', () => {
    const p = link([withMeta(mov64(R0, 0), { line: 7, file: 'x.s' }), exit()]);
    expect(p.instructions[0]!.meta).toEqual({ line: 7, file: 'x.s' });
  });
});

describe('metadata through to the text', () => {
  const program = link([
    withMeta(mov64(R0, 0), { line: 3, file: 'prog.c' }),
    withMeta(callFunc('double'), { line: 3, file: 'prog.c' }),
    withMeta(exit(), { line: 4, file: 'prog.c' }),
    func('double'),
    withMeta(add64(R0, R0), { line: 9, file: 'prog.c' }),
    exit(),
  ]);

  it('prints source positions and function names when asked, like llvm-objdump -l', () => {
    expect(program.toString({ source: true })).toBe(
      [
        '; prog.c:3',
        'r0 = 0x0',
        'call +0x1 <double>',
        '; prog.c:4',
        'exit',
        'double:',
        '; double at prog.c:9',
        'r0 += r0',
        '; double',
        'exit',
        '',
      ].join('\n'),
    );
    expect(program.toString()).not.toContain(';');
  });

  it('reads its own annotated text back to the same bytes', () => {
    const text = disassemble(program, { source: true, offsets: true, rawBytes: true });
    expect(assembleProgram(text).encode()).toEqual(program.encode());
  });

  it('assembling text records line, column, file and the function each instruction is in', () => {
    const p = assembleProgram('  r0 = 0\n  call f\n  exit\nf:\n  r0 = 1\n  exit\n', { file: 'a.s' });
    expect(p.instructions.map((i) => i.meta)).toEqual([
      { line: 1, column: 3, file: 'a.s' },
      { line: 2, column: 3, file: 'a.s' },
      { line: 3, column: 3, file: 'a.s' },
      { line: 5, column: 3, file: 'a.s', func: 'f' },
      { line: 6, column: 3, file: 'a.s', func: 'f' },
    ]);
    expect(disassemble(p, { source: true })).toContain('; f at a.s:5\nr0 = 0x1');
  });

  it('objdump symbols start functions', () => {
    const p = assembleProgram('0000000000000000 <prog>:\n       0:\tr0 = 0x0\n       1:\texit\n');
    expect(p.instructions.map((i) => i.meta?.func)).toEqual(['prog', 'prog']);
  });
});

describe('symbolic references', () => {
  const p = link([
    ldMapFd(R1, 'counters'),
    ldMapValue(R2, 'config', 16),
    callKfunc('bpf_obj_new_impl'),
    exit(),
  ]);

  it('lists what the loader must fill', () => {
    expect(p.references()).toEqual([
      { kind: 'map', name: 'counters', index: 0, slot: 0, pseudo: PseudoSrc.MapFd },
      { kind: 'map', name: 'config', index: 1, slot: 2, pseudo: PseudoSrc.MapValue },
      { kind: 'kfunc', name: 'bpf_obj_new_impl', index: 2, slot: 4, pseudo: 2 },
    ]);
  });

  it('fills map fds, keeping value offsets', () => {
    const fds: Record<string, number> = { counters: 7, config: 9 };
    const r = p.resolveMaps((name) => fds[name]);
    expect(r.instructions[0]).toMatchObject({ src: PseudoSrc.MapFd, imm: 7n });
    expect(r.instructions[1]).toMatchObject({ src: PseudoSrc.MapValue, imm: (16n << 32n) | 9n });
    expect(r.references()).toEqual([
      { kind: 'kfunc', name: 'bpf_obj_new_impl', index: 2, slot: 4, pseudo: 2 },
    ]);
  });

  it('fills map fds while encoding, bytes equal to resolveMaps then encode', () => {
    const fds: Record<string, number> = { counters: 7, config: 9 };
    const maps = p.instructions.slice(0, 2);
    for (const byteOrder of ['little', 'big'] as const) {
      const out = new Uint8Array(32);
      expect(encodeInto(maps, out, 0, { byteOrder, mapFd: (name) => fds[name] as number })).toBe(32);
      expect(out).toEqual(
        encode(
          resolveMaps(maps, (name) => fds[name]),
          { byteOrder },
        ),
      );
    }
    expect(() => encodeInto(maps, new Uint8Array(32), 0, { mapFd: () => -1 })).toThrow(
      /map 'counters' resolved to -1/,
    );
    expect(() => encodeInto(p.instructions, new Uint8Array(48), 0, { mapFd: () => 3 })).toThrow(
      /kernel function 'bpf_obj_new_impl'/,
    );
  });

  it('fills fd_array indexes', () => {
    const r = resolveMaps(p.instructions, (name) => (name === 'counters' ? 0 : 1), { as: 'index' });
    expect(r[0]).toMatchObject({ src: PseudoSrc.MapIdx, imm: 0n });
    expect(r[1]).toMatchObject({ src: PseudoSrc.MapIdxValue, imm: (16n << 32n) | 1n });
  });

  it('refuses an unknown map unless partial', () => {
    expect(() => p.resolveMaps(() => undefined)).toThrow(/no map named 'counters'/);
    expect(p.resolveMaps(() => undefined, { partial: true }).references()).toHaveLength(3);
  });

  it('fills kfunc BTF ids', () => {
    const r = p.resolveKfuncs(() => ({ btfId: 1234, btfFdIndex: 1 }));
    expect(r.instructions[2]).toMatchObject({ imm: 1234, off: 1 });
  });

  it('prints references by name and reads them back', () => {
    const text = disassemble(p);
    expect(text).toBe(
      'r1 = counters ll\nld_pseudo r2, 0x2, config, 0x10\ncall kfunc bpf_obj_new_impl\nexit\n',
    );
    const again = assembleProgram(text);
    expect(again.references()).toEqual(p.references());
    const fill = (q: Program) =>
      q
        .resolveMaps(() => 3)
        .resolveKfuncs(() => 7)
        .encode();
    expect(fill(again)).toEqual(fill(p));
  });

  it('refuses to encode a reference nothing resolved, naming it and its instruction', () => {
    expect(() => p.encode()).toThrow(
      expect.objectContaining({ name: 'LinkError', label: 'counters', index: 0 }),
    );
    expect(() => p.resolveMaps(() => 3).encode()).toThrow(
      /instruction 2 refers to kernel function 'bpf_obj_new_impl'/,
    );
    expect(() => assemble('r1 = counts ll\nexit\n')).toThrow(/1:.*map 'counts', which nothing resolved/);
  });
});

describe('assembler syntax', () => {
  it('reads llvm-objdump output, comments, directives and decimal numbers', () => {
    const text = `
a.o:\tfile format elf64-bpf

Disassembly of section .text:

0000000000000000 <prog>:
       0:\tb7 00 00 00 01 00 00 00\tr0 = 0x1
       1:\t05 00 01 00 00 00 00 00\tgoto +0x1 <LBB0_2>
       2:\tr0 = 2   # comment
       3:\t/* block */ exit ; trailing
    .globl prog
`;
    const p = assembleProgram(text);
    expect(disassemble(p)).toBe('prog:\nr0 = 0x1\ngoto +0x1\nr0 = 0x2\nexit\n');
    expect(p.instructions.map((i) => i.meta?.line)).toEqual([7, 8, 9, 10]);
  });

  it('resolves labels, helpers by name and functions', () => {
    const p = assembleProgram(`
      call bpf_ktime_get_ns
      call map_lookup_elem
      call helper_fn
      if r0 == 0 goto done
      r0 = 1
    done: exit
    helper_fn:
      r0 = 2
      exit
    `);
    expect(decode(p.encode()).map((i) => [i.src, i.imm])).toEqual([
      [0, 5],
      [0, 1],
      [1, 3],
      [0, 0],
      [0, 1],
      [0, 0],
      [0, 2],
      [0, 0],
    ]);
  });

  it('accepts r-register spellings of 32-bit loads, stores and atomics (LLVM without alu32)', () => {
    const a = assembleProgram('r0 = *(u32 *)(r1 + 4)\n*(u32 *)(r10 - 8) = r1\nlock *(u32 *)(r1 + 0) += r2');
    const b = assembleProgram('w0 = *(u32 *)(r1 + 4)\n*(u32 *)(r10 - 8) = w1\nlock *(u32 *)(r1 + 0) += w2');
    expect(a.encode()).toEqual(b.encode());
  });

  it('disassembles with offsets and raw bytes', () => {
    expect(disassemble(encode([mov64(R0, 1), exit()]), { offsets: true, rawBytes: true })).toBe(
      '   0:\tb7 00 00 00 01 00 00 00\tr0 = 0x1\n   1:\t95 00 00 00 00 00 00 00\texit\n',
    );
  });

  it('keeps labels through text: assembleProgram(program.toString()) has the same targets', () => {
    const p = link([
      mov64(R0, 0),
      label('loop'),
      add64(R0, 1),
      jne(R0, 10, 'loop'),
      callFunc('f'),
      exit(),
      func('f'),
      exit(),
    ]);
    const again = assembleProgram(p.toString());
    const strip = (i: { meta?: unknown }) => {
      const { meta: _meta, ...rest } = i;
      return rest;
    };
    expect(again.instructions.map(strip)).toEqual(p.instructions.map(strip));
  });

  it('refuses an offset that does not reach its <label> annotation', () => {
    expect(() => assembleProgram('goto +0x0 <out>\nr0 = 1\nout:\nexit')).toThrow(/does not reach <out>/);
  });

  it('invents labels for jump targets when asked', () => {
    expect(disassemble(encode([ja(1), mov64(R0, 1), exit()]), { labels: true })).toBe(
      'goto +0x1 <L2>\nr0 = 0x1\nL2:\nexit\n',
    );
  });
});

describe('program tag', () => {
  // Values read back from bpf_prog_info.tag on Linux 6.18 (SHA-256) and computed with SHA-1.
  const prog = encode([mov64(R0, 42), exit()]);
  it('matches the kernel', () => {
    expect(programTag(prog)).toBe('76b761cdf4203894');
    expect(programTag(prog, 'sha1')).toBe('f7b20f7af67e4318');
    expect(matchesTag(prog, '76B761CDF4203894')).toBe(true);
    expect(matchesTag(prog, 'f7b20f7af67e4318')).toBe(true);
    expect(matchesTag(prog, '0000000000000000')).toBe(false);
  });

  it('does not depend on map fds', () => {
    const a = link([ldMapFd(R1, 3), ldMapValue(R2, 4, 8), exit()]);
    const b = link([ldMapFd(R1, 30), ldMapValue(R2, 40, 16), exit()]);
    expect(a.tag()).toBe(b.tag());
    expect(programTag(a.instructions)).toBe(programTag(a.encode()));
  });
});
