import { describe, expect, it } from 'vitest';
import { Preprocessor } from './preprocessor.ts';

function pp(src: string): string {
  return new Preprocessor()
    .run(src, 't.h')
    .tokens.map((t) => t.text)
    .join(' ');
}

describe('Preprocessor', () => {
  it('expands object-like macros and rescans them', () => {
    expect(pp('#define A B + 1\n#define B 2\nA')).toBe('2 + 1');
  });

  it('does not expand a macro inside itself (self-referencing enumerator macros)', () => {
    expect(pp('#define BPF_F_LINK BPF_F_LINK\nBPF_F_LINK')).toBe('BPF_F_LINK');
  });

  it('expands function-like macros with pre-expanded arguments, # and ##', () => {
    expect(pp('#define ONE 1\n#define ADD(a, b) ((a) + (b))\nADD(ONE, 2)')).toBe('( ( 1 ) + ( 2 ) )');
    expect(pp('#define CAT(a, b) a ## b\nCAT(BPF_, ADD)')).toBe('BPF_ADD');
    expect(pp('#define STR(x) #x\nSTR(a b)')).toBe('"a b"');
  });

  it('leaves a function-like macro name alone when no ( follows', () => {
    expect(pp('#define F(x) x\nF + F(1)')).toBe('F + 1');
  });

  it('tells #define F(x) from #define F (x)', () => {
    expect(pp('#define F (x)\nF(1)')).toBe('( x ) ( 1 )');
  });

  it('expands the 6.1 helper mapper: FN(name) with a pasting enumerator macro', () => {
    const src = [
      '#define __BPF_FUNC_MAPPER(FN) \\',
      '\tFN(unspec),\t\\',
      '\tFN(map_lookup_elem),\t\\',
      '\tFN(map_update_elem),',
      '#define __BPF_ENUM_FN(x) BPF_FUNC_ ## x',
      'enum bpf_func_id { __BPF_FUNC_MAPPER(__BPF_ENUM_FN) __BPF_FUNC_MAX_ID, };',
      '#undef __BPF_ENUM_FN',
    ].join('\n');
    expect(pp(src)).toBe(
      'enum bpf_func_id { BPF_FUNC_unspec , BPF_FUNC_map_lookup_elem , BPF_FUNC_map_update_elem , __BPF_FUNC_MAX_ID , } ;',
    );
  });

  it('expands the newer helper mapper: FN(name, id, ...) with explicit ids', () => {
    const src = [
      '#define ___BPF_FUNC_MAPPER(FN, ctx...) \\',
      '\tFN(unspec, 0, ##ctx) \\',
      '\tFN(map_lookup_elem, 1, ##ctx)',
      '#define __BPF_ENUM_FN(x, y) BPF_FUNC_ ## x = y,',
      'enum bpf_func_id { ___BPF_FUNC_MAPPER(__BPF_ENUM_FN) __BPF_FUNC_MAX_ID, };',
    ].join('\n');
    expect(pp(src)).toBe(
      'enum bpf_func_id { BPF_FUNC_unspec = 0 , BPF_FUNC_map_lookup_elem = 1 , __BPF_FUNC_MAX_ID , } ;',
    );
  });

  it('evaluates conditionals with defined and arithmetic', () => {
    const src = [
      '#define X 2',
      '#ifndef __GUARD__',
      '#define __GUARD__',
      '#if defined(X) && X > 1',
      'yes',
      '#elif 1',
      'no1',
      '#else',
      'no2',
      '#endif',
      '#ifdef NOPE',
      'no3',
      '#endif',
      '#endif',
    ].join('\n');
    expect(pp(src)).toBe('yes');
  });

  it('records the macros a file defines and the headers it includes', () => {
    const r = new Preprocessor().run(
      '#include <linux/types.h>\n#define A 1\n#define B(x) x\n#undef A\n',
      't.h',
    );
    expect(r.includes).toEqual(['<linux/types.h>']);
    expect(r.defined.map((m) => m.name)).toEqual(['B']);
  });

  it.each([
    ['#if 1\nx\n', 't.h:1: unterminated conditional (#if without #endif)'],
    ['x\n#endif\n', 't.h:2: #endif without #if'],
    ['#else\n', 't.h:1: #else without #if'],
    ['\n#frobnicate\n', 't.h:2: unknown preprocessor directive #frobnicate'],
    ['#error stop here\n', 't.h:1: #error stop here'],
    ['#define F(a, b) a\nF(1)\n', 't.h:2: macro F takes 2 argument(s), got 1'],
    ['#define F(a) a\nF(1\n', 't.h:2: unterminated call of macro F'],
    ['#define F(a b) a\n', 't.h:1: bad parameter list in #define F'],
  ])('rejects %j', (src, message) => {
    expect(() => new Preprocessor().run(src, 't.h')).toThrow(message);
  });
});
