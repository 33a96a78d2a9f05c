/**
 * Stage 1: reads linux/bpf.h (+ bpf_common.h, if_link.h's XDP flags) and, optionally, kernel BTF,
 * and produces the IR. BTF adds what is newer than the header; where both know a fact they must
 * agree, or extraction fails naming the fact.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Btf, BtfError } from '@ebpf/btf';
import { btfAggregate } from './btf/aggregate.ts';
import { anonymousEnumWith, enumNamed } from './btf/enums.ts';
import type { CValue } from './c/expr.ts';
import { evalConstExpr } from './c/expr.ts';
import { layoutAggregate } from './c/layout.ts';
import { type ParsedHeader, parseDeclarations } from './c/parser.ts';
import { type Macro, Preprocessor } from './c/preprocessor.ts';
import type { Comment } from './c/tokenizer.ts';
import { constantFacts, helperFacts } from './facts.ts';
import type { Ir, IrAggregate, IrConstant, IrEnum, IrHelper, IrMember, IrOrigin } from './ir.ts';
import { EXCLUDED_ENUMERATOR, enumRows, extractedAggregates } from './tables.ts';

/** Thrown when inputs disagree or lack something the tables require. */
export class ExtractError extends Error {
  override name = 'ExtractError';
}

/** The header inputs: file contents keyed by their include name (`linux/bpf.h`). */
export interface HeaderInput {
  /** The release the header comes from (`6.1`), if known. */
  readonly version?: string;
  readonly bpf: { readonly name: string; readonly text: string };
  readonly bpfCommon?: { readonly name: string; readonly text: string };
  readonly ifLink?: { readonly name: string; readonly text: string };
  /** linux/btf.h: the BTF format (kinds, encodings, record layouts). */
  readonly btf?: { readonly name: string; readonly text: string };
}

/** Reads bpf.h at `path` and its siblings bpf_common.h, if_link.h and btf.h (if present). */
export function readHeaders(path: string): HeaderInput {
  if (!existsSync(path))
    throw new ExtractError(`header not found: ${path} (install linux-libc-dev, or pass --header PATH)`);
  const dir = dirname(path);
  const sibling = (f: string): { name: string; text: string } | undefined => {
    const p = join(dir, f);
    return existsSync(p) ? { name: `linux/${f}`, text: readFileSync(p, 'utf8') } : undefined;
  };
  const common = sibling('bpf_common.h');
  const ifLink = sibling('if_link.h');
  const btf = sibling('btf.h');
  const version = headerVersion(sibling('version.h')?.text);
  return {
    ...(version ? { version } : {}),
    bpf: { name: 'linux/bpf.h', text: readFileSync(path, 'utf8') },
    ...(common ? { bpfCommon: common } : {}),
    ...(ifLink ? { ifLink } : {}),
    ...(btf ? { btf } : {}),
  };
}

/** `major.minor` from the text of linux/version.h, or undefined. */
export function headerVersion(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const pp = new Preprocessor();
  const r = pp.run(text, 'linux/version.h');
  const code = r.defined.find((m) => m.name === 'LINUX_VERSION_CODE');
  if (!code) return undefined;
  try {
    const v = Number(evalConstExpr(pp.expand(code.body), () => undefined, code.body[0]!).value);
    return `${v >> 16}.${(v >> 8) & 0xff}`;
  } catch {
    return undefined;
  }
}

/** Reads and parses a BTF file. */
export function readBtf(path: string): Btf {
  if (!existsSync(path))
    throw new ExtractError(`BTF not found: ${path} (pass --btf PATH, or --btf none for the header alone)`);
  try {
    return Btf.parse(readFileSync(path));
  } catch (e) {
    if (e instanceof BtfError) throw new ExtractError(`${path}: ${e.message}`);
    throw e;
  }
}

interface HeaderFacts {
  parsed: ParsedHeader;
  defines: Map<string, CValue>;
  comments: Comment[];
}

function evalDefines(
  pp: Preprocessor,
  macros: Macro[],
  parsed: ParsedHeader,
  keep: (name: string) => boolean,
  into: Map<string, CValue>,
): void {
  for (const m of macros) {
    if (m.params || m.body.length === 0 || !keep(m.name)) continue;
    const toks = pp.expand(m.body);
    if (toks.some((t) => t.kind === 'string')) continue;
    try {
      const v = evalConstExpr(toks, (n) => parsed.constants.get(n) ?? into.get(n), toks[0]!);
      into.set(m.name, v);
    } catch {
      // Not an integer constant (a type, a macro helper): not ours.
    }
  }
}

/** Parses the headers: declarations of bpf.h and btf.h, integer `#define`s of all of them. */
export function parseHeaders(input: HeaderInput): HeaderFacts {
  const pp = new Preprocessor();
  const defines = new Map<string, CValue>();
  const common = input.bpfCommon ? pp.run(input.bpfCommon.text, input.bpfCommon.name) : undefined;
  const main = pp.run(input.bpf.text, input.bpf.name);
  const parsed = parseDeclarations(main.tokens);
  if (common) evalDefines(pp, common.defined, parsed, () => true, defines);
  evalDefines(pp, main.defined, parsed, () => true, defines);
  if (input.ifLink) {
    const pp2 = new Preprocessor();
    const link = pp2.run(input.ifLink.text, input.ifLink.name);
    evalDefines(pp2, link.defined, parsed, (n) => n.startsWith('XDP_FLAGS_'), defines);
  }
  if (input.btf) {
    // Its own preprocessor: btf.h includes nothing bpf.h needs, and its declarations join bpf.h's.
    const pp3 = new Preprocessor();
    const format = pp3.run(input.btf.text, input.btf.name);
    parseDeclarations(format.tokens, parsed);
    evalDefines(pp3, format.defined, parsed, (n) => n.startsWith('BTF_'), defines);
  }
  return { parsed, defines, comments: main.comments };
}

const HELPER_SIG = /^\s*\*\s(\S.*\b(bpf_\w+)\s*\(.*\))\s*$/;

/** Helper C signatures from the documentation comment of bpf.h (`name` → signature). */
export function helperDocs(comments: readonly Comment[]): Map<string, string> {
  const res = new Map<string, string>();
  for (const c of comments) {
    const lines = c.text.split('\n');
    for (let k = 0; k + 1 < lines.length; k++) {
      const m = HELPER_SIG.exec(lines[k]!);
      if (!m || !/^\s*\*\s+Description\s*$/.test(lines[k + 1]!)) continue;
      res.set(m[2]!, m[1]!.replace(/\s+/g, ' ').trim());
    }
  }
  return res;
}

function toIrValue(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v.toString();
}

function leaves(members: readonly IrMember[], prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of members) {
    const path = m.name ? (prefix ? `${prefix}.${m.name}` : m.name) : prefix;
    if (m.members) {
      for (const [k, v] of leaves(m.members, path)) out.set(k, v);
    } else {
      out.set(path, `${m.offset}+${m.size}${m.bitSize ? `:${m.bitOffset}/${m.bitSize}` : ''}`);
    }
  }
  return out;
}

/** Picks the newer of two definitions of one aggregate, checking that they agree on what both have. */
export function mergeAggregate(
  header: IrAggregate | undefined,
  btf: IrAggregate | undefined,
): IrAggregate | undefined {
  if (!header || !btf) return btf ?? header;
  const h = leaves(header.members);
  const b = leaves(btf.members);
  const btfNewer = b.size >= h.size;
  for (const [path, where] of btfNewer ? h : b) {
    const other = (btfNewer ? b : h).get(path);
    if (other === undefined) {
      throw new ExtractError(
        `${header.name}: field ${path} is only in the ${btfNewer ? 'header' : 'BTF'}, which has fewer fields (header and BTF disagree)`,
      );
    }
    if (other !== where) {
      const [inHeader, inBtf] = btfNewer ? [where, other] : [other, where];
      throw new ExtractError(
        `${header.name}: field ${path} is at ${inHeader} in the header but ${inBtf} in the BTF`,
      );
    }
  }
  return btfNewer ? btf : header;
}

/**
 * Runs extraction. `btf` may be undefined (header only); `btfVersion` is the release the BTF
 * comes from, if known.
 */
export function extract(input: HeaderInput, btf: Btf | undefined, btfVersion?: string): Ir {
  const { parsed, defines, comments } = parseHeaders(input);
  const constants = new Map<string, { value: bigint; from: IrOrigin }>();
  const addConstant = (name: string, value: bigint, from: IrOrigin): void => {
    // Sentinels (__MAX_BPF_CMD, MAX_BPF_ATTACH_TYPE) grow with every kernel: not facts to keep.
    if (EXCLUDED_ENUMERATOR.test(name)) return;
    const prev = constants.get(name);
    if (prev && prev.value !== value) {
      throw new ExtractError(`${name} is ${prev.value} in the ${prev.from} but ${value} in the ${from}`);
    }
    if (!prev) constants.set(name, { value, from });
  };
  for (const [name, v] of defines) addConstant(name, v.value, 'header');

  // Enums: every enum of the header, merged with the kernel's, plus table enums only BTF has.
  const enums: IrEnum[] = [];
  const btfEnum = (tag: string | undefined, firstMember: string) => {
    if (!btf) return undefined;
    return tag ? enumNamed(btf, tag) : anonymousEnumWith(btf, firstMember);
  };
  const taken = new Set<string>();
  for (const e of parsed.enums) {
    const first = e.members[0]?.name ?? '';
    const kernel = btfEnum(e.tag, first);
    const names: string[] = [];
    for (const m of e.members) addConstant(m.name, m.value, 'header');
    if (kernel) {
      for (const v of kernel.values) {
        addConstant(v.name, v.value, 'btf');
        names.push(v.name);
      }
    }
    for (const m of e.members) if (!names.includes(m.name)) names.push(m.name);
    const kept = names.filter((n) => !EXCLUDED_ENUMERATOR.test(n));
    names.length = 0;
    names.push(...kept);
    const name = e.tag ?? `(anonymous ${first})`;
    taken.add(name);
    enums.push({ name, anonymous: !e.tag, members: names, from: kernel ? 'btf' : 'header' });
  }
  if (btf) {
    for (const row of enumRows) {
      const key = row.cEnum ?? (row.anonEnumWith ? `(anonymous ${row.anonEnumWith})` : undefined);
      if (!key || taken.has(key)) continue;
      if (row.anonEnumWith && enums.some((e) => e.members.includes(row.anonEnumWith!))) continue;
      const kernel = btfEnum(row.cEnum, row.anonEnumWith ?? '');
      if (!kernel) continue;
      for (const v of kernel.values) addConstant(v.name, v.value, 'btf');
      const first = kernel.values[0]?.name ?? '';
      enums.push({
        name: row.cEnum ?? `(anonymous ${first})`,
        anonymous: !row.cEnum,
        members: kernel.values.map((v) => v.name).filter((n) => !EXCLUDED_ENUMERATOR.test(n)),
        from: 'btf',
      });
    }
  }
  if (btf) {
    // Enumerators a row lists by name that the header lacks: take the kernel enum declaring them.
    for (const row of enumRows) {
      for (const want of row.members ?? []) {
        if (constants.has(want)) continue;
        const kernel = btfEnum(undefined, want);
        if (!kernel) continue;
        for (const v of kernel.values) addConstant(v.name, v.value, 'btf');
        const first = kernel.values[0]?.name ?? '';
        enums.push({
          name: `(anonymous ${first})`,
          anonymous: true,
          members: kernel.values.map((v) => v.name).filter((n) => !EXCLUDED_ENUMERATOR.test(n)),
          from: 'btf',
        });
      }
    }
  }
  const since = new Map<string, string>();
  for (const f of constantFacts) {
    addConstant(f.name, BigInt(f.value), 'facts');
    if (constants.get(f.name)?.from === 'facts') since.set(f.name, f.since);
  }

  // Aggregates named by the layout tables.
  const aggregates: IrAggregate[] = [];
  for (const name of extractedAggregates) {
    const c = parsed.aggregates.get(name);
    const fromHeader = c?.members ? layoutAggregate(c, 'header') : undefined;
    const fromBtf = btf ? btfAggregate(btf, name) : undefined;
    const merged = mergeAggregate(fromHeader, fromBtf);
    // Absent from both inputs (a reduced header): left out; the uapi tests check that the
    // committed output has every layout of the tables.
    if (merged) aggregates.push(merged);
  }

  // Helpers: ids from enum bpf_func_id, signatures from the header's docs, then facts.
  const docs = helperDocs(comments);
  for (const f of helperFacts) if (!docs.has(f.name)) docs.set(f.name, f.signature);
  const funcEnum = enums.find((e) => e.name === 'bpf_func_id');
  if (!funcEnum) throw new ExtractError('enum bpf_func_id not found (is this linux/bpf.h?)');
  const helpers: IrHelper[] = [];
  for (const member of funcEnum.members) {
    if (!member.startsWith('BPF_FUNC_') || member === 'BPF_FUNC_unspec') continue;
    const name = `bpf_${member.slice('BPF_FUNC_'.length)}`;
    helpers.push({ id: Number(constants.get(member)!.value), name, signature: docs.get(name) ?? null });
  }
  helpers.sort((a, b) => a.id - b.id);

  const irConstants: IrConstant[] = [...constants]
    .map(([name, c]) => {
      const s = since.get(name);
      return s
        ? { name, value: toIrValue(c.value), from: c.from, since: s }
        : { name, value: toIrValue(c.value), from: c.from };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  enums.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const source = { header: input.version ?? null, btf: btf ? (btfVersion ?? null) : null };
  return { source, constants: irConstants, enums, aggregates, helpers };
}
