/**
 * @ebpf/uapi against the running kernel's BTF: every generated enum member whose C name the
 * kernel knows has the kernel's value, and every generated layout field has the kernel's offset
 * and size, and no kernel field is missing. Also checks this generator's C front end: the
 * machine's (older) linux/bpf.h, parsed and laid out here, agrees with the kernel on every field
 * both know.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Btf } from '@ebpf/btf';
import { skipUnsupported } from '@ebpf/test-utils';
import type { StructLayout } from '@ebpf/uapi';
import * as uapi from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import { btfAggregate } from './btf/aggregate.ts';
import { anonymousEnumWith, enumNamed, kernelEnums } from './btf/enums.ts';
import { layoutAggregate } from './c/layout.ts';
import { fieldName } from './emit.ts';
import { parseHeaders, readHeaders } from './extract.ts';
import { readIr } from './files.ts';
import type { IrMember } from './ir.ts';
import { DEFAULT_BTF, DEFAULT_HEADER, DEFAULT_IR_DIR, runningKernel } from './main.ts';
import { EXCLUDED_ENUMERATOR, enumRows, layoutRows } from './tables.ts';

const noBtf = existsSync(DEFAULT_BTF)
  ? undefined
  : `kernel BTF missing at ${DEFAULT_BTF} (CONFIG_DEBUG_INFO_BTF=n)`;
const btf: Btf | undefined = noBtf ? undefined : Btf.parse(readFileSync(DEFAULT_BTF));

function kernelEnumerators(b: Btf): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const e of kernelEnums(b)) for (const v of e.values) if (!m.has(v.name)) m.set(v.name, v.value);
  return m;
}

/** Where a field sits and what it holds: the parts of a generated field the kernel can confirm. */
interface Placement {
  readonly offset: number;
  readonly size: number;
  readonly type: string;
  readonly bitOffset?: number;
  readonly bitSize?: number;
}

/** Drops the absent bitfield keys, so a placement compares equal to a generated field's. */
function placement(p: Placement): Placement {
  const { offset, size, type, bitOffset, bitSize } = p;
  return bitSize === undefined
    ? { offset, size, type }
    : { offset, size, type, bitOffset: bitOffset ?? 0, bitSize };
}

/**
 * Kernel fields flattened the way the emitter names them, with the type the emitter must give
 * them: arrays are 'bytes', C pointers 'u64', integers their own width and signedness (a 'u64'
 * the generator classifies as a user pointer is emitted as 'ptr', which the comparison allows).
 */
function flatten(members: readonly IrMember[], prefix = '', out = new Map<string, Placement>()) {
  for (const m of members) {
    const path = m.name ? (prefix ? `${prefix}.${m.name}` : m.name) : prefix;
    if (m.members) flatten(m.members, path, out);
    else {
      const type = m.kind === 'array' ? 'bytes' : m.kind === 'ptr' ? 'u64' : (m.scalar ?? '?');
      out.set(fieldName(path), placement({ ...m, type }));
    }
  }
  return out;
}

/** A generated field as the kernel would describe it ('ptr' is a 'u64' to BTF). */
function asKernelSees(f: Placement): Placement {
  return placement({ ...f, type: f.type === 'ptr' ? 'u64' : f.type });
}

const exports = uapi as unknown as Record<string, unknown>;
/** The committed output was made from this very kernel: then it must match it field for field. */
const sameKernel = readIr(DEFAULT_IR_DIR).source.btf === runningKernel();

describe.skipIf(skipUnsupported(noBtf))('@ebpf/uapi matches the running kernel (BTF)', () => {
  it.each(enumRows.map((r) => r.name))('every member of %s the kernel knows has its value', (name) => {
    const known = kernelEnumerators(btf!);
    const values = exports[name] as Record<string, number | bigint>;
    const cNames = exports[`${name}CNames`] as Record<string, string>;
    expect(values, `${name} is not exported`).toBeDefined();
    let checked = 0;
    for (const [member, value] of Object.entries(values)) {
      const k = known.get(cNames[member]!);
      if (k === undefined) continue; // a #define: not in BTF
      // Compared as 64-bit patterns: BTF keeps the enum's signedness, TypeScript the C value.
      expect([member, BigInt.asUintN(64, BigInt(value))]).toEqual([member, BigInt.asUintN(64, k)]);
      checked++;
    }
    if (enumRows.find((r) => r.name === name)!.cEnum) expect(checked).toBe(Object.keys(values).length);
  });

  it.each(enumRows.filter((r) => r.cEnum || r.anonEnumWith).map((r) => r.name))(
    'no enumerator of the kernel C enum behind %s is missing',
    (name) => {
      const row = enumRows.find((r) => r.name === name)!;
      const kernelEnum = row.cEnum ? enumNamed(btf!, row.cEnum) : anonymousEnumWith(btf!, row.anonEnumWith!);
      if (!kernelEnum || !sameKernel) return; // an enum newer than this kernel, or another release
      const generated = new Set(Object.values(exports[`${name}CNames`] as Record<string, string>));
      const missing = kernelEnum.values
        .map((v) => v.name)
        .filter((n) => !EXCLUDED_ENUMERATOR.test(n) && !generated.has(n));
      expect(missing).toEqual([]);
    },
  );

  it.each(layoutRows.map((r) => r.name))(
    'every field of %s has the kernel offset, size, bit position and type, none missing',
    (name) => {
      const row = layoutRows.find((r) => r.name === name)!;
      const layout = exports[name] as StructLayout | undefined;
      const agg = btfAggregate(btf!, row.from)!;
      if (row.member && !agg.members.some((m) => m.name === row.member)) {
        if (!sameKernel) return;
        // A command newer than this kernel: not in the committed output either.
        expect(layout).toBeUndefined();
        return;
      }
      expect(layout, `${name} is not exported`).toBeDefined();
      let members = agg.members;
      let size = agg.size;
      if (row.member || row.hasField) {
        const has = (ms: readonly IrMember[], n: string): boolean =>
          ms.some((m) => m.name === n || (!m.name && m.members !== undefined && has(m.members, n)));
        const m = agg.members.find((x) =>
          row.member ? x.name === row.member : !x.name && has(x.members ?? [], row.hasField!),
        )!;
        members = m.members!;
        size = m.offset + m.size;
      }
      const kernel = flatten(members);
      const generated = new Map(Object.entries(layout!.fields).map(([k, f]) => [k, asKernelSees(f)]));
      if (sameKernel) {
        expect(generated).toEqual(kernel);
        expect(layout!.size).toBe(size);
      } else {
        // Another release than the IR's: what both have must still agree (uapi layouts only grow).
        for (const [field, where] of generated)
          if (kernel.has(field)) expect([field, where]).toEqual([field, kernel.get(field)]);
      }
    },
  );

  it("the machine's linux/bpf.h, laid out by codegen, agrees with the kernel on every shared field", () => {
    if (skipUnsupported(existsSync(DEFAULT_HEADER) ? undefined : `no ${DEFAULT_HEADER}`)) return;
    const { parsed } = parseHeaders(readHeaders(DEFAULT_HEADER));
    let shared = 0;
    for (const row of layoutRows) {
      const c = parsed.aggregates.get(row.from);
      if (!c?.members) continue;
      const header = flatten(layoutAggregate(c, 'header').members);
      const kernel = flatten(btfAggregate(btf!, row.from)!.members);
      for (const [field, where] of header) {
        if (!kernel.has(field)) continue;
        expect([row.from, field, where]).toEqual([row.from, field, kernel.get(field)]);
        shared++;
      }
    }
    expect(shared).toBeGreaterThan(500);
  });
});
