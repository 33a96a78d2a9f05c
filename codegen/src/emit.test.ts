import { describe, expect, it } from 'vitest';
import { EmitError, emit, fieldName, GENERATED_HEADER, memberName } from './emit.ts';
import type { Ir, IrMember } from './ir.ts';

describe('names', () => {
  it.each([
    ['BPF_MAP_TYPE_PERCPU_HASH', 'BPF_MAP_TYPE_', 'PercpuHash'],
    ['BPF_FUNC_map_lookup_elem', 'BPF_FUNC_', 'MapLookupElem'],
    ['BPF_F_LOCK', 'BPF_', 'FLock'],
    ['BPF_F_MARK_MANGLED_0', 'BPF_F_', 'MarkMangled0'],
    ['XDP_PACKET_HEADROOM', ['BPF_', 'XDP_'], 'PacketHeadroom'],
  ] as const)('memberName(%s) drops %j', (c, prefix, name) => {
    expect(memberName(c, prefix)).toBe(name);
  });

  it('rejects names without the prefix or that would start with a digit', () => {
    expect(() => memberName('XDP_PASS', 'BPF_')).toThrow('XDP_PASS does not start with BPF_');
    expect(() => memberName('BPF_REG_0', 'BPF_REG_')).toThrow(EmitError);
  });

  it.each([
    ['map_fd', 'mapFd'],
    ['kprobe_multi.cnt', 'kprobeMultiCnt'],
    ['perf_event.uprobe.file_name', 'perfEventUprobeFileName'],
    ['btf_log_buf', 'btfLogBuf'],
  ])('fieldName(%s) is %s', (c, name) => {
    expect(fieldName(c)).toBe(name);
  });
});

const u32 = (name: string, offset: number): IrMember => ({
  name,
  ctype: '__u32',
  offset,
  size: 4,
  kind: 'scalar',
  scalar: 'u32',
});
const u64 = (name: string, offset: number, ctype = '__aligned_u64'): IrMember => ({
  name,
  ctype,
  offset,
  size: 8,
  kind: 'scalar',
  scalar: 'u64',
});

function irWith(elem: IrMember[]): Ir {
  return {
    source: { header: null, btf: null },
    constants: [
      { name: 'BPF_MAP_CREATE', value: 0, from: 'header' },
      { name: 'BPF_MAP_LOOKUP_ELEM', value: 1, from: 'header' },
      { name: 'BPF_PROG_RUN', value: 1, from: 'header' },
    ],
    enums: [
      {
        name: 'bpf_cmd',
        anonymous: false,
        members: ['BPF_MAP_CREATE', 'BPF_MAP_LOOKUP_ELEM', 'BPF_PROG_RUN'],
        from: 'header',
      },
    ],
    aggregates: [
      {
        name: 'union bpf_attr',
        size: 32,
        align: 8,
        from: 'header',
        members: [{ name: '', ctype: 'struct', offset: 0, size: 32, kind: 'struct', members: elem }],
      },
    ],
    helpers: [
      {
        id: 1,
        name: 'bpf_map_lookup_elem',
        signature: 'void *bpf_map_lookup_elem(struct bpf_map *map, const void *key)',
      },
    ],
    errno: [],
  };
}

describe('emit', () => {
  const elem = [
    u32('map_fd', 0),
    u64('key', 8),
    {
      name: '',
      ctype: 'union',
      offset: 16,
      size: 8,
      kind: 'union',
      members: [u64('value', 16), u64('next_key', 16)],
    } as IrMember,
    u64('flags', 24, '__u64'),
  ];

  it('writes the do-not-edit header, enums with aliases, C-name tables, layouts and helper signatures', () => {
    const warnings: string[] = [];
    const files = emit(irWith(elem), { warn: (m) => warnings.push(m) });
    const enums = files.get('enums.generated.ts')!;
    expect(enums.split('\n').slice(0, 2)).toEqual(GENERATED_HEADER);
    expect(enums).toContain(
      'export const Cmd = {\n  /** `BPF_MAP_CREATE` */\n  MapCreate: 0,\n  /** `BPF_MAP_LOOKUP_ELEM` */\n  MapLookupElem: 1,\n  /** `BPF_PROG_RUN` */\n  ProgRun: 1,\n} as const;',
    );
    expect(enums).toContain('export type Cmd = (typeof Cmd)[keyof typeof Cmd];');
    expect(enums).toContain("MapLookupElem: 'BPF_MAP_LOOKUP_ELEM',");
    expect(enums).toContain('[Cmd, CmdCNames]');
    const layouts = files.get('layouts.generated.ts')!;
    expect(layouts).toContain("/** `__aligned_u64 key` */\n    key: { offset: 8, size: 8, type: 'ptr' },");
    expect(layouts).toContain("nextKey: { offset: 16, size: 8, type: 'ptr' },");
    expect(layouts).toContain("flags: { offset: 24, size: 8, type: 'u64' },");
    expect(layouts).toContain('export const BPF_ATTR_SIZE = 32;');
    expect(files.get('helpers.generated.ts')).toContain(
      "1: 'void *bpf_map_lookup_elem(void *map, const void *key)',",
    );
    // Families this IR lacks entirely are left out; partly-known ones are warned about.
    expect(enums).not.toContain('InsnClass');
    expect(warnings.some((w) => w.startsWith('JmpOp: BPF_JA is in neither'))).toBe(true);
  });

  it('is deterministic', () => {
    expect(emit(irWith(elem))).toEqual(emit(irWith(elem)));
  });

  it('refuses a 64-bit attr field that is neither a pointer nor known to be a number', () => {
    expect(() => emit(irWith([...elem.slice(0, 3), u64('mystery', 24)]))).toThrow(
      'MapElemAttr: 64-bit field mystery (__aligned_u64) is in neither pointers nor notPointers of codegen/src/tables.ts',
    );
  });

  it('refuses a union bpf_attr member no row describes', () => {
    const ir = irWith(elem);
    const attr = ir.aggregates[0]!;
    const extra = {
      ...attr,
      size: 40,
      members: [
        ...attr.members,
        {
          name: 'new_cmd',
          ctype: 'struct',
          offset: 0,
          size: 4,
          kind: 'struct',
          members: [u32('x', 0)],
        } as IrMember,
      ],
    };
    expect(() => emit({ ...ir, aggregates: [extra] })).toThrow(
      'union bpf_attr members without a layout row in codegen/src/tables.ts: new_cmd',
    );
  });

  it('refuses two fields that flatten to one name', () => {
    const dup = [
      ...elem,
      { name: 'key', ctype: '__u32', offset: 28, size: 4, kind: 'scalar', scalar: 'u32' } as IrMember,
    ];
    expect(() => emit(irWith(dup))).toThrow('MapElemAttr: two fields flatten to key (key)');
  });
});
