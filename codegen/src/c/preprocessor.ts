/**
 * A C preprocessor for uapi headers: `#define` (object- and function-like, with `#` and `##`),
 * `#undef`, `#if`/`#ifdef`/`#ifndef`/`#elif`/`#else`/`#endif` with `defined`, and `#include`
 * (recorded, not followed: the generator feeds each header it wants explicitly). Macro expansion
 * rescans its result, so helper mapper macros like `__BPF_FUNC_MAPPER(FN)` expand fully.
 */
import { evalConstExpr } from './expr.ts';
import { CSyntaxError, type Loc, type Token, tokenize } from './tokenizer.ts';

/** A macro definition as written. `params` is undefined for object-like macros. */
export interface Macro {
  readonly name: string;
  readonly params: readonly string[] | undefined;
  readonly variadic: boolean;
  /** Name of the variadic parameter: `__VA_ARGS__`, or the GNU `name...` form's name. */
  readonly vaName?: string | undefined;
  readonly body: readonly Token[];
  readonly loc: Loc;
}

/** A token after expansion; `hide` holds the macros it came out of (they do not expand again). */
export interface PToken extends Token {
  readonly hide?: ReadonlySet<string>;
}

/** Output of preprocessing one file. */
export interface Preprocessed {
  readonly tokens: PToken[];
  readonly comments: ReturnType<typeof tokenize>['comments'];
  /** Macros defined by this file (and still defined at its end), in definition order. */
  readonly defined: Macro[];
  readonly includes: string[];
}

/** A preprocessor whose macro table persists across the files it is given. */
export class Preprocessor {
  readonly macros = new Map<string, Macro>();

  /** Defines an object-like macro from text, like `-DNAME=VALUE`. */
  define(name: string, value = '1'): void {
    const { tokens } = tokenize(value, '<command line>');
    this.macros.set(name, {
      name,
      params: undefined,
      variadic: false,
      body: tokens,
      loc: { file: '<command line>', line: 0 },
    });
  }

  /** Preprocesses `source` (named `file` in errors). */
  run(source: string, file: string): Preprocessed {
    const { tokens, comments } = tokenize(source, file);
    const out: PToken[] = [];
    const includes: string[] = [];
    const definedHere: string[] = [];
    // Conditional stack: `active` = this branch emits, `done` = an earlier branch was taken.
    const conds: Array<{
      active: boolean;
      done: boolean;
      sawElse: boolean;
      parentActive: boolean;
      loc: Loc;
    }> = [];
    const active = (): boolean => conds.length === 0 || conds[conds.length - 1]!.active;
    let text: Token[] = [];

    const flushText = (): void => {
      if (text.length) out.push(...this.expand(text));
      text = [];
    };

    let i = 0;
    while (i < tokens.length) {
      const t = tokens[i]!;
      if (!(t.bol && t.text === '#' && t.kind === 'punct')) {
        if (active()) text.push(t);
        i++;
        continue;
      }
      // A directive: collect the rest of its logical line.
      let j = i + 1;
      while (j < tokens.length && !tokens[j]!.bol) j++;
      const line = tokens.slice(i + 1, j);
      i = j;
      flushText();
      const dname = line[0];
      if (!dname) continue; // null directive
      const args = line.slice(1);
      switch (dname.text) {
        case 'ifdef':
        case 'ifndef': {
          const parentActive = active();
          if (args[0]?.kind !== 'ident') throw new CSyntaxError(dname, `#${dname.text} needs a macro name`);
          const isDef = this.macros.has(args[0].text);
          const take = parentActive && (dname.text === 'ifdef' ? isDef : !isDef);
          conds.push({ active: take, done: take, sawElse: false, parentActive, loc: dname });
          break;
        }
        case 'if': {
          const parentActive = active();
          const take = parentActive && this.evalIf(args, dname);
          conds.push({ active: take, done: take, sawElse: false, parentActive, loc: dname });
          break;
        }
        case 'elif': {
          const c = conds[conds.length - 1];
          if (!c) throw new CSyntaxError(dname, '#elif without #if');
          if (c.sawElse) throw new CSyntaxError(dname, '#elif after #else');
          const take = c.parentActive && !c.done && this.evalIf(args, dname);
          c.active = take;
          c.done ||= take;
          break;
        }
        case 'else': {
          const c = conds[conds.length - 1];
          if (!c) throw new CSyntaxError(dname, '#else without #if');
          if (c.sawElse) throw new CSyntaxError(dname, 'second #else');
          c.sawElse = true;
          c.active = c.parentActive && !c.done;
          c.done = true;
          break;
        }
        case 'endif':
          if (!conds.pop()) throw new CSyntaxError(dname, '#endif without #if');
          break;
        default:
          if (!active()) break;
          switch (dname.text) {
            case 'define': {
              const m = this.parseDefine(dname, args);
              this.macros.set(m.name, m);
              definedHere.push(m.name);
              break;
            }
            case 'undef':
              if (args[0]?.kind !== 'ident') throw new CSyntaxError(dname, '#undef needs a macro name');
              this.macros.delete(args[0].text);
              break;
            case 'include':
              includes.push(args.map((a) => a.text).join(''));
              break;
            case 'error':
              throw new CSyntaxError(dname, `#error ${args.map((a) => a.text).join(' ')}`);
            case 'pragma':
            case 'warning':
            case 'line':
              break;
            default:
              throw new CSyntaxError(dname, `unknown preprocessor directive #${dname.text}`);
          }
      }
    }
    flushText();
    const open = conds[conds.length - 1];
    if (open) throw new CSyntaxError(open.loc, 'unterminated conditional (#if without #endif)');
    const defined: Macro[] = [];
    const seen = new Set<string>();
    for (const name of definedHere) {
      const m = this.macros.get(name);
      if (m && !seen.has(name) && m.loc.file === file) {
        seen.add(name);
        defined.push(m);
      }
    }
    return { tokens: out, comments, defined, includes };
  }

  private parseDefine(at: Token, args: Token[]): Macro {
    const name = args[0];
    if (name?.kind !== 'ident') throw new CSyntaxError(at, '#define needs a macro name');
    // Function-like only when '(' follows the name with no space.
    if (args[1]?.text === '(' && !args[1].space) {
      const params: string[] = [];
      let variadic = false;
      let vaName: string | undefined;
      let k = 2;
      if (args[k]?.text === ')') k++;
      else {
        for (;;) {
          const p = args[k];
          if (p?.text === '...') {
            variadic = true;
            vaName = '__VA_ARGS__';
            k++;
          } else if (p?.kind === 'ident' && args[k + 1]?.text === '...') {
            // GNU named variadic parameter: `ctx...`
            variadic = true;
            vaName = p.text;
            k += 2;
          } else if (p?.kind === 'ident') {
            params.push(p.text);
            k++;
          } else throw new CSyntaxError(p ?? at, `bad parameter list in #define ${name.text}`);
          const sep = args[k++];
          if (sep?.text === ')') break;
          if (sep?.text !== ',' || variadic)
            throw new CSyntaxError(sep ?? at, `bad parameter list in #define ${name.text}`);
        }
      }
      return {
        name: name.text,
        params,
        variadic,
        vaName,
        body: args.slice(k),
        loc: { file: at.file, line: at.line },
      };
    }
    return {
      name: name.text,
      params: undefined,
      variadic: false,
      body: args.slice(1),
      loc: { file: at.file, line: at.line },
    };
  }

  private evalIf(args: Token[], at: Token): boolean {
    // Replace `defined X` / `defined(X)` before expansion, then expand, then unknown names are 0.
    const pre: Token[] = [];
    for (let k = 0; k < args.length; k++) {
      const a = args[k]!;
      if (a.kind === 'ident' && a.text === 'defined') {
        let nameTok = args[k + 1];
        let skip = 1;
        if (nameTok?.text === '(') {
          nameTok = args[k + 2];
          if (args[k + 3]?.text !== ')') throw new CSyntaxError(a, 'bad defined() in #if');
          skip = 3;
        }
        if (nameTok?.kind !== 'ident') throw new CSyntaxError(a, 'defined needs a macro name');
        pre.push({ ...a, kind: 'number', text: this.macros.has(nameTok.text) ? '1' : '0' });
        k += skip;
      } else pre.push(a);
    }
    const expanded = this.expand(pre).map((t) =>
      t.kind === 'ident' ? { ...t, kind: 'number' as const, text: '0' } : t,
    );
    return evalConstExpr(expanded, () => undefined, at).value !== 0n;
  }

  /** Fully macro-expands a token list (rescanning results, honouring hide sets). */
  expand(input: readonly PToken[]): PToken[] {
    const q: PToken[] = input.slice();
    const out: PToken[] = [];
    let i = 0;
    let guard = 0;
    while (i < q.length) {
      if (++guard > 5_000_000) throw new CSyntaxError(q[i]!, 'macro expansion does not terminate');
      const t = q[i]!;
      const m = t.kind === 'ident' ? this.macros.get(t.text) : undefined;
      if (!m || t.hide?.has(m.name)) {
        out.push(t);
        i++;
        continue;
      }
      const hide = new Set(t.hide ?? []);
      hide.add(m.name);
      if (!m.params) {
        const body = m.body.map((b) => ({ ...b, file: t.file, line: t.line, hide }));
        q.splice(i, 1, ...this.paste(body, t));
        continue;
      }
      if (q[i + 1]?.text !== '(') {
        out.push(t);
        i++;
        continue;
      }
      // Collect arguments up to the matching ')'.
      const argsList: PToken[][] = [[]];
      let depth = 0;
      let k = i + 2;
      for (; k < q.length; k++) {
        const a = q[k]!;
        if (a.text === '(' && a.kind === 'punct') depth++;
        else if (a.text === ')' && a.kind === 'punct') {
          if (depth === 0) break;
          depth--;
        } else if (a.text === ',' && a.kind === 'punct' && depth === 0) {
          if (!(m.variadic && argsList.length > m.params.length)) {
            argsList.push([]);
            continue;
          }
        }
        argsList[argsList.length - 1]!.push(a);
      }
      if (k >= q.length) throw new CSyntaxError(t, `unterminated call of macro ${m.name}`);
      if (m.params.length === 0 && !m.variadic && argsList.length === 1 && argsList[0]!.length === 0)
        argsList.length = 0;
      const want = m.params.length + (m.variadic ? 1 : 0);
      if (argsList.length !== want && !(m.variadic && argsList.length === m.params.length)) {
        throw new CSyntaxError(t, `macro ${m.name} takes ${want} argument(s), got ${argsList.length}`);
      }
      const rep = this.substitute(m, argsList, t, hide);
      q.splice(i, k - i + 1, ...rep);
    }
    return out;
  }

  private substitute(m: Macro, args: PToken[][], at: Token, hide: ReadonlySet<string>): PToken[] {
    const params = m.params!;
    const argOf = (name: string): PToken[] | undefined => {
      if (m.variadic && name === (m.vaName ?? '__VA_ARGS__')) return args[params.length] ?? [];
      const idx = params.indexOf(name);
      return idx >= 0 ? args[idx]! : undefined;
    };
    const body = m.body;
    const res: PToken[] = [];
    for (let k = 0; k < body.length; k++) {
      const b = body[k]!;
      if (b.text === '#' && b.kind === 'punct' && body[k + 1]?.kind === 'ident' && argOf(body[k + 1]!.text)) {
        const a = argOf(body[k + 1]!.text)!;
        res.push({
          ...b,
          kind: 'string',
          text: JSON.stringify(a.map((x) => x.text).join(' ')),
          file: at.file,
          line: at.line,
          hide,
        });
        k++;
        continue;
      }
      // GNU `, ## args`: the comma disappears when the variadic argument is empty.
      if (
        b.text === ',' &&
        body[k + 1]?.text === '##' &&
        body[k + 2] &&
        m.variadic &&
        body[k + 2]!.text === (m.vaName ?? '__VA_ARGS__')
      ) {
        const va = argOf(body[k + 2]!.text)!;
        if (va.length > 0) {
          res.push({ ...b, file: at.file, line: at.line, hide });
          for (const x of this.expand(va))
            res.push({ ...x, file: at.file, line: at.line, hide: union(x.hide, hide) });
        }
        k += 2;
        continue;
      }
      const a = b.kind === 'ident' ? argOf(b.text) : undefined;
      if (a) {
        const nextPaste = body[k + 1]?.text === '##';
        const prevPaste = body[k - 1]?.text === '##';
        const toks = nextPaste || prevPaste ? a : this.expand(a);
        if (toks.length === 0 && (nextPaste || prevPaste)) {
          res.push({ ...b, kind: 'ident', text: '', file: at.file, line: at.line, hide });
        }
        for (const x of toks) res.push({ ...x, file: at.file, line: at.line, hide: union(x.hide, hide) });
        continue;
      }
      res.push({ ...b, file: at.file, line: at.line, hide });
    }
    return this.paste(res, at);
  }

  private paste(toks: PToken[], at: Token): PToken[] {
    if (!toks.some((t) => t.text === '##' && t.kind === 'punct'))
      return toks.filter((t) => t.text !== '' || t.kind !== 'ident');
    const res: PToken[] = [];
    for (let k = 0; k < toks.length; k++) {
      const t = toks[k]!;
      if (t.text === '##' && t.kind === 'punct') {
        const left = res.pop();
        const right = toks[++k];
        if (!left || !right) throw new CSyntaxError(at, "'##' at the edge of a macro body");
        const text = left.text + right.text;
        const { tokens } = tokenize(text, at.file);
        if (tokens.length > 1)
          throw new CSyntaxError(at, `pasting '${left.text}' and '${right.text}' does not give one token`);
        if (tokens.length === 1) res.push({ ...left, kind: tokens[0]!.kind, text });
        continue;
      }
      res.push(t);
    }
    return res.filter((t) => t.text !== '' || t.kind !== 'ident');
  }
}

function union(a: ReadonlySet<string> | undefined, b: ReadonlySet<string>): ReadonlySet<string> {
  if (!a || a.size === 0) return b;
  const s = new Set(a);
  for (const x of b) s.add(x);
  return s;
}
