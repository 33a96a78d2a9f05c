/**
 * Emits packages/sys/src/generated/bpf-rules.generated.h: the pointer rules of @ebpf/sys's checked
 * bpf() (see native-tables.ts), with every offset and enum value taken from the IR. Pure: IR in,
 * file text out.
 */
import { EmitError, GENERATED_HEADER, layoutFields, memberName } from './emit.ts';
import type { Ir, IrMember } from './ir.ts';
import {
  commandRows,
  type GroupName,
  infoStructs,
  linkCreateByAttachType,
  linkInfoByPerfType,
  linkInfoByType,
  mapTypeSets,
  nativeStructs,
  type PointerRule,
  pointerGroups,
  type UnionChoice,
} from './native-tables.ts';

/** The generated header's file name. */
export const NATIVE_RULES_FILE = 'bpf-rules.generated.h';

const ruleName = (r: PointerRule): string => `Rule::k${r[0]!.toUpperCase()}${r.slice(1)}`;

function fieldsOf(ir: Ir, layout: string) {
  const l = layoutFields(ir, layout);
  if (!l) throw new EmitError(`${layout} is not in the IR (native-tables.ts needs it)`);
  return l;
}

function offsetOf(ir: Ir, layout: string, path: string, size?: number): number {
  const m = fieldsOf(ir, layout).fields.get(path);
  if (!m) throw new EmitError(`${layout} has no field ${path} (named by codegen/src/native-tables.ts)`);
  if (size !== undefined && m.size !== size)
    throw new EmitError(`${layout}.${path} is ${m.size} bytes, native-tables.ts expects ${size}`);
  return m.offset;
}

function constantValue(ir: Ir, name: string): number | undefined {
  const v = ir.constants.find((c) => c.name === name)?.value;
  return typeof v === 'number' ? v : undefined;
}

function groupArray(ir: Ir, name: GroupName): string {
  const g = pointerGroups[name];
  const rows = g.pointers.map((p) => {
    const row = p as { field: string; rule: PointerRule; len?: string; rec?: string; unit?: number };
    const a = row.len === undefined ? 0 : offsetOf(ir, g.layout, row.len, 4);
    const b = row.rec === undefined ? 0 : offsetOf(ir, g.layout, row.rec, 4);
    const off = offsetOf(ir, g.layout, row.field, 8);
    return `    {${off}, ${ruleName(row.rule)}, ${a}, ${b}, ${row.unit ?? 1}, "${row.field}"},`;
  });
  return `inline constexpr Field kPointers${name}[] = {\n${rows.join('\n')}\n};`;
}

function choiceSwitch(ir: Ir, fn: string, arg: string, choices: readonly UnionChoice[], extra = ''): string {
  const cases = choices.flatMap((c) => {
    const values = c.when.filter((w) => constantValue(ir, w) !== undefined);
    if (values.length === 0) return [];
    const labels = values.map((w) => `case ${constantValue(ir, w)}:  // ${w}`).join('\n    ');
    return [`    ${labels}\n      return LayoutOf(kPointers${c.pointers});`];
  });
  return `inline Layout ${fn}(${arg}${extra}) {\n  switch (${arg.split(' ').at(-1)}) {\n${cases.join('\n')}\n${'    '}default:\n      return kNoPointers;\n  }\n}`;
}

/** C's type for a field of `size` bytes (arrays as bytes). */
function cField(path: string, m: { kind: string; size: number; bitSize?: number }): string {
  if (path.includes('.') || m.bitSize !== undefined || m.kind === 'struct' || m.kind === 'union')
    throw new EmitError(`native struct field ${path} is not a flat scalar, pointer or array`);
  if (m.kind === 'array') return `uint8_t ${path}[${m.size}];`;
  return `uint${m.size * 8}_t ${path};`;
}

/**
 * A C struct with the layout's fields at their IR offsets: fields sharing an offset become an
 * anonymous union, gaps become padding, and static_asserts hold the compiler to every offset.
 */
function cStruct(ir: Ir, name: string, layout: string): string {
  const l = fieldsOf(ir, layout);
  const byOffset = new Map<number, [string, IrMember][]>();
  for (const [path, m] of l.fields) byOffset.set(m.offset, [...(byOffset.get(m.offset) ?? []), [path, m]]);
  const body: string[] = [];
  let at = 0;
  const pad = (to: number) => {
    if (to > at) body.push(`  uint8_t pad${at}[${to - at}];`);
  };
  for (const [offset, members] of [...byOffset].sort(([a], [b]) => a - b)) {
    if (offset < at) throw new EmitError(`${layout}: fields overlap at ${offset}`);
    pad(offset);
    const size = members[0]![1].size;
    if (members.some(([, m]) => m.size !== size))
      throw new EmitError(`${layout}: fields of different sizes share offset ${offset}`);
    const decls = members.map(([path, m]) => cField(path, m));
    body.push(
      ...(decls.length === 1 ? [`  ${decls[0]}`] : ['  union {', ...decls.map((d) => `    ${d}`), '  };']),
    );
    at = offset + size;
  }
  pad(l.size);
  const checks = [...l.fields].map(([path, m]) => `offsetof(${name}, ${path}) == ${m.offset}`);
  return [
    `struct ${name} {`,
    ...body,
    '};',
    `static_assert(sizeof(${name}) == ${l.size} &&\n              ${checks.join(' &&\n              ')},`,
    `              "${name} matches ${layout} of @ebpf/uapi");`,
  ].join('\n');
}

/** `bool name(uint32_t type)`: whether a map type is one of `members`. */
function mapTypeSet(ir: Ir, name: string, members: readonly string[]): string {
  const cases = members.map((m) => {
    const value = constantValue(ir, m);
    if (value === undefined) throw new EmitError(`${m} (mapTypeSets.${name}) is not in the IR`);
    return `    case ${value}:  // ${m}`;
  });
  return `inline constexpr bool ${name}(uint32_t type) {\n  switch (type) {\n${cases.join('\n')}\n      return true;\n    default:\n      return false;\n  }\n}`;
}

/** The header's text. */
export function emitNative(ir: Ir): Map<string, string> {
  const cmdEnum = ir.enums.find((e) => e.name === 'bpf_cmd');
  if (!cmdEnum) throw new EmitError('enum bpf_cmd is not in the IR');
  const byName = new Map(commandRows.map((r) => [r.cmd, r]));
  // Aliases (BPF_PROG_RUN = BPF_PROG_TEST_RUN) come after the name they alias.
  const seen = new Set<number>();
  const cmds = cmdEnum.members
    .map((name) => ({ name, value: constantValue(ir, name)! }))
    .filter((c) => !seen.has(c.value) && seen.add(c.value));
  for (const c of cmds) {
    if (!byName.has(c.name))
      throw new EmitError(`bpf command ${c.name} has no row in codegen/src/native-tables.ts commandRows`);
  }
  cmds.sort((a, b) => a.value - b.value);
  cmds.forEach((c, k) => {
    if (c.value !== k) throw new EmitError(`bpf commands are not contiguous at ${c.name} (${c.value})`);
  });

  const used = new Set<GroupName>();
  const specs = cmds.map((c) => {
    const row = byName.get(c.name)!;
    const l = fieldsOf(ir, row.layout);
    let size = l.size;
    if (row.through) {
      const m = l.fields.get(row.through);
      if (!m) throw new EmitError(`${row.layout} has no field ${row.through}`);
      size = m.offset + m.size;
    }
    if (row.pointers) used.add(row.pointers);
    const mapFd = row.mapFd ? offsetOf(ir, row.layout, row.mapFd, 4) : 'kNoMap';
    const layout = row.pointers ? `LayoutOf(kPointers${row.pointers})` : 'kNoPointers';
    return `    /* ${c.name} */ {${size}, ${mapFd}, ${layout}, ${row.returnsFd ? 'true' : 'false'}},`;
  });
  const choices = [...linkCreateByAttachType, ...linkInfoByType, ...linkInfoByPerfType];
  for (const c of choices) used.add(c.pointers);
  for (const s of Object.values(infoStructs)) if (s.pointers) used.add(s.pointers);
  const groups = (Object.keys(pointerGroups) as GroupName[]).filter((g) => used.has(g));
  const maxFields = Math.max(...groups.map((g) => pointerGroups[g].pointers.length));
  const attrSizes = cmds.map((c) => fieldsOf(ir, byName.get(c.name)!.layout).size);
  const infoSizes = Object.entries(infoStructs).map(([name, s]) => ({
    name,
    size: fieldsOf(ir, s.layout).size,
  }));
  const linkTypes = ir.enums.find((e) => e.name === 'bpf_link_type')?.members ?? [];
  const perfType = offsetOf(ir, 'LinkInfo', 'perf_event.type', 4);

  const lines = [
    ...GENERATED_HEADER.map((l) =>
      l.replace('codegen/src/tables.ts or codegen/src/facts.ts', 'codegen/src/native-tables.ts'),
    ),
    '//',
    '// The pointer rules of bpf.cc for every bpf command: attr size, pointer fields with the fields',
    '// bounding them, which commands return an fd, and the union switches of link_create and',
    '// bpf_link_info. Offsets and values come from the same IR as @ebpf/uapi.',
    '#pragma once',
    '',
    '#include <cstddef>',
    '#include <cstdint>',
    '',
    '#include "../rules.h"',
    '',
    'namespace ebpf_sys {',
    '',
    `constexpr unsigned kCmdCount = ${cmds.length};`,
    ...cmds.map((c) => `constexpr unsigned kCmd${memberName(c.name, 'BPF_')} = ${c.value};`),
    '',
    'inline constexpr const char* kCmdNames[kCmdCount] = {',
    ...cmds.map((c) => `    "${c.name}",`),
    '};',
    '',
    ...groups.flatMap((g) => [groupArray(ir, g), '']),
    '// By command.',
    'inline constexpr CmdSpec kSpecs[kCmdCount] = {',
    ...specs,
    '};',
    `constexpr unsigned kMaxAttrKnown = ${Math.max(...attrSizes)};  // the largest CmdSpec::size`,
    `constexpr unsigned kMaxLayoutFields = ${maxFields};`,
    '',
    "// BPF_LINK_CREATE: the union member after `flags` by attach_type (the kernel's link_create()).",
    choiceSwitch(ir, 'LinkCreateLayout', 'uint32_t attachType', linkCreateByAttachType),
    '',
    '// bpf_link_info: the union member by link type; perf_event links by perf_event.type too.',
    `constexpr unsigned kLinkInfoPerfTypeAt = ${perfType};`,
    choiceSwitch(ir, 'LinkPerfInfoLayout', 'uint32_t perfType', linkInfoByPerfType),
    `constexpr unsigned kLinkTypePerfEvent = ${constantValue(ir, 'BPF_LINK_TYPE_PERF_EVENT')};`,
    choiceSwitch(ir, 'LinkInfoLayout', 'uint32_t linkType', linkInfoByType),
    `constexpr unsigned kMaxLinkType = ${Math.max(...linkTypes.map((n) => constantValue(ir, n) ?? 0))};`,
    '',
    ...infoSizes.map((s) => `constexpr unsigned k${s.name}Size = ${s.size};`),
    `constexpr unsigned kMaxInfoSize = ${Math.max(...infoSizes.map((s) => s.size))};`,
    '',
    '// The header before each ring buffer record (ringbuf.cc drains rings with it).',
    ...['BPF_RINGBUF_BUSY_BIT', 'BPF_RINGBUF_DISCARD_BIT', 'BPF_RINGBUF_HDR_SZ'].map(
      (n) => `constexpr uint32_t k${memberName(n, 'BPF_')} = ${constantValue(ir, n)}u;`,
    ),
    '',
    '// Structs the map hot paths, the test runner and the size cache fill or read themselves.',
    ...Object.entries(nativeStructs).flatMap(([name, layout]) => [cStruct(ir, name, layout), '']),
    ...Object.entries(mapTypeSets).flatMap(([name, members]) => [mapTypeSet(ir, name, members), '']),
    '}  // namespace ebpf_sys',
    '',
  ];
  return new Map([[NATIVE_RULES_FILE, lines.join('\n')]]);
}
