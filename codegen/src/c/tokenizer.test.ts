import { describe, expect, it } from 'vitest';
import { CSyntaxError, parseIntLiteral, tokenize } from './tokenizer.ts';

describe('tokenize', () => {
  it('splits identifiers, numbers, punctuators and keeps comments aside with their lines', () => {
    const { tokens, comments } = tokenize('#define A (1U << 3) /* c */\nx->y ## z;\n// tail', 'a.h');
    expect(tokens.map((t) => t.text)).toEqual([
      '#',
      'define',
      'A',
      '(',
      '1U',
      '<<',
      '3',
      ')',
      'x',
      '->',
      'y',
      '##',
      'z',
      ';',
    ]);
    expect(tokens[8]).toMatchObject({ line: 2, bol: true });
    expect(comments).toEqual([
      { file: 'a.h', line: 1, text: '/* c */' },
      { file: 'a.h', line: 3, text: '// tail' },
    ]);
  });

  it('splices backslash-newline so a continued directive stays one logical line', () => {
    const { tokens } = tokenize('#define F(x) \\\n  x + 1\nnext', 'a.h');
    expect(tokens.filter((t) => t.bol).map((t) => t.text)).toEqual(['#', 'next']);
    expect(tokens.find((t) => t.text === 'next')!.line).toBe(3);
  });

  it('records whether a token follows whitespace (function-like macro detection)', () => {
    const { tokens } = tokenize('F(x) G (y)', 'a.h');
    expect(tokens[1]).toMatchObject({ text: '(', space: false });
    expect(tokens[5]).toMatchObject({ text: '(', space: true });
  });

  it.each([
    ['/* never closed', 'a.h:1: unterminated comment'],
    ['x\n"abc\n', 'a.h:2: unterminated string literal'],
    ['int x = 1;\n\n  @', 'a.h:3: unexpected character "@"'],
  ])('reports %j with file and line', (src, message) => {
    expect(() => tokenize(src, 'a.h')).toThrow(CSyntaxError);
    expect(() => tokenize(src, 'a.h')).toThrow(message);
  });
});

describe('parseIntLiteral', () => {
  it.each([
    ['0', 0n],
    ['42', 42n],
    ['0x1f', 31n],
    ['0XffULL', 255n],
    ['017', 15n],
    ['0b101', 5n],
    ['16U', 16n],
  ])('%s is %s', (text, value) => {
    expect(parseIntLiteral({ kind: 'number', text, file: 'a.h', line: 1, bol: false, space: false })).toBe(
      value,
    );
  });

  it('rejects floats', () => {
    expect(() =>
      parseIntLiteral({ kind: 'number', text: '1.5', file: 'a.h', line: 7, bol: false, space: false }),
    ).toThrow('a.h:7: not an integer constant: 1.5');
  });
});
