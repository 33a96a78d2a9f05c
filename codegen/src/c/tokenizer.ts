/**
 * C tokenizer for the subset of C that uapi headers use. Produces tokens with file and line, keeps
 * block comments aside (the helper documentation lives in them) and reports malformed input as a
 * {@link CSyntaxError} naming the file and line.
 */

/** Where a token or an error comes from. */
export interface Loc {
  readonly file: string;
  readonly line: number;
}

/** Token kinds: identifiers (keywords included), numbers, strings, chars, punctuators. */
export type TokenKind = 'ident' | 'number' | 'string' | 'char' | 'punct';

/** One token. `bol` is true for the first token of a logical line (directives start there). */
export interface Token extends Loc {
  readonly kind: TokenKind;
  readonly text: string;
  readonly bol: boolean;
  /** Whitespace came before this token (needed to tell `#define F(x)` from `#define F (x)`). */
  readonly space: boolean;
}

/** A block or line comment with the line it starts on. */
export interface Comment extends Loc {
  readonly text: string;
}

/** A syntax error in a C input, with the file and line it was found at. */
export class CSyntaxError extends Error {
  override name = 'CSyntaxError';
  readonly file: string;
  readonly line: number;
  constructor(loc: Loc, message: string) {
    super(`${loc.file}:${loc.line}: ${message}`);
    this.file = loc.file;
    this.line = loc.line;
  }
}

const PUNCTS = [
  '<<=',
  '>>=',
  '...',
  '##',
  '->',
  '++',
  '--',
  '<<',
  '>>',
  '<=',
  '>=',
  '==',
  '!=',
  '&&',
  '||',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
];
const SINGLE = '{}[]()#;,.:?~!+-*/%<>=&|^';

/** Tokenizes one C source file. Backslash-newline pairs are spliced first. */
export function tokenize(source: string, file: string): { tokens: Token[]; comments: Comment[] } {
  const tokens: Token[] = [];
  const comments: Comment[] = [];
  let i = 0;
  let line = 1;
  let bol = true;
  let space = false;
  const n = source.length;
  const at = (): Loc => ({ file, line });
  while (i < n) {
    const c = source[i]!;
    if (c === '\\' && source[i + 1] === '\n') {
      i += 2;
      line++;
      space = true;
      continue;
    }
    if (c === '\\' && source[i + 1] === '\r' && source[i + 2] === '\n') {
      i += 3;
      line++;
      space = true;
      continue;
    }
    if (c === '\n') {
      i++;
      line++;
      bol = true;
      space = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      space = true;
      continue;
    }
    if (c === '/' && source[i + 1] === '*') {
      const start = line;
      const close = source.indexOf('*/', i + 2);
      if (close < 0) throw new CSyntaxError({ file, line: start }, 'unterminated comment');
      const text = source.slice(i, close + 2);
      for (const ch of text) if (ch === '\n') line++;
      comments.push({ file, line: start, text });
      i = close + 2;
      space = true;
      continue;
    }
    if (c === '/' && source[i + 1] === '/') {
      let j = i;
      while (j < n && source[j] !== '\n') j++;
      comments.push({ file, line, text: source.slice(i, j) });
      i = j;
      continue;
    }
    const push = (kind: TokenKind, text: string): void => {
      tokens.push({ kind, text, file, line, bol, space });
      bol = false;
      space = false;
    };
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(source[j]!)) j++;
      push('ident', source.slice(i, j));
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_.]/.test(source[j]!)) j++;
      push('number', source.slice(i, j));
      i = j;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && source[j] !== c) {
        if (source[j] === '\\') j++;
        if (source[j] === '\n')
          throw new CSyntaxError(at(), `unterminated ${c === '"' ? 'string' : 'character'} literal`);
        j++;
      }
      if (j >= n) throw new CSyntaxError(at(), 'unterminated literal');
      push(c === '"' ? 'string' : 'char', source.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    const three = source.slice(i, i + 3);
    const two = source.slice(i, i + 2);
    const p = PUNCTS.find((x) => x === three || x === two);
    if (p) {
      push('punct', p);
      i += p.length;
      continue;
    }
    if (SINGLE.includes(c)) {
      push('punct', c);
      i++;
      continue;
    }
    throw new CSyntaxError(at(), `unexpected character ${JSON.stringify(c)}`);
  }
  return { tokens, comments };
}

/** Value of a C integer literal (decimal, hex, octal, binary; suffixes u/l ignored) as a bigint. */
export function parseIntLiteral(tok: Token): bigint {
  const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([uUlL]*)$/.exec(tok.text);
  if (!m) throw new CSyntaxError(tok, `not an integer constant: ${tok.text}`);
  const body = m[1]!;
  if (/^0[bB]/.test(body)) return BigInt(body);
  if (/^0[xX]/.test(body)) return BigInt(body);
  if (body.length > 1 && body.startsWith('0')) return BigInt(`0o${body.slice(1)}`);
  return BigInt(body);
}
