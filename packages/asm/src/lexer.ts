/** Tokens of one line of BPF assembly, with 1-based columns for error messages. */
export type TokenKind = 'ident' | 'number' | 'punct' | 'op';

/** One token. Numbers keep their text; `value` is their magnitude (sign is a separate token). */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly column: number;
  readonly value?: bigint;
}

/** Operators, longest first so that `s>>=` wins over `s>>` and `>>=` over `>>`. */
const OPERATORS = [
  's>>=',
  '<<=',
  '>>=',
  's/=',
  's%=',
  's>=',
  's<=',
  '+=',
  '-=',
  '*=',
  '/=',
  '|=',
  '&=',
  '%=',
  '^=',
  '==',
  '!=',
  '>=',
  '<=',
  's>',
  's<',
  '>',
  '<',
  '&',
  '=',
];
const PUNCT = '()[]*,+-:';

/** Thrown by {@link lex}; the assembler turns it into an `AssembleError`. */
export class LexError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

function isLetter(code: number): boolean {
  return (
    (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95 || code === 46 || code === 36
  );
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Characters that can start an operator (`s` is handled apart). */
const OPERATOR_START = new Set('+-*/|&%^=!<>');

/** Integer spellings, built once (a regex literal in a function is a new object per evaluation). */
const NUMBER = /^(0x[0-9a-f]+|0b[01]+|0o[0-7]+|[0-9]+)$/i;
const UNDERSCORES = /_/g;

/** Splits a line (comments already removed) into tokens. */
export function lex(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = line.length;
  outer: while (i < n) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    const column = i + 1;
    // Signed operators start with an identifier character, so try them first.
    if (c === 's' && i + 1 < n && '><%/'.includes(line[i + 1]!)) {
      for (const op of OPERATORS) {
        if (op.startsWith('s') && line.startsWith(op, i)) {
          tokens.push({ kind: 'op', text: op, column });
          i += op.length;
          continue outer;
        }
      }
    }
    const code = line.charCodeAt(i);
    if (isLetter(code)) {
      let j = i + 1;
      while (j < n && (isLetter(line.charCodeAt(j)) || isDigit(line.charCodeAt(j)))) j++;
      tokens.push({ kind: 'ident', text: line.slice(i, j), column });
      i = j;
      continue;
    }
    if (isDigit(code)) {
      let j = i + 1;
      while (j < n && (isLetter(line.charCodeAt(j)) || isDigit(line.charCodeAt(j))) && line[j] !== '.') j++;
      const text = line.slice(i, j);
      const clean = text.includes('_') ? text.replace(UNDERSCORES, '') : text;
      let value: bigint;
      try {
        if (!NUMBER.test(clean)) throw new Error();
        value = BigInt(clean);
      } catch {
        throw new LexError(`'${text}' is not a number`, column);
      }
      tokens.push({ kind: 'number', text, column, value });
      i = j;
      continue;
    }
    if (OPERATOR_START.has(c)) {
      for (const op of OPERATORS) {
        if (op.charCodeAt(0) === code && line.startsWith(op, i)) {
          // A lone '-' / '+' / '*' is punctuation unless it is part of a compound assignment.
          tokens.push({ kind: 'op', text: op, column });
          i += op.length;
          continue outer;
        }
      }
    }
    if (PUNCT.includes(c)) {
      tokens.push({ kind: 'punct', text: c, column });
      i++;
      continue;
    }
    throw new LexError(`unexpected character '${c}'`, column);
  }
  return tokens;
}
