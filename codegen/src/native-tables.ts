/**
 * The tables behind @ebpf/sys's checked bpf(): for every command, the layout of its attr, which
 * fields are pointers and which field bounds the memory behind each, whether it returns a new fd,
 * and how `link_create` and `bpf_link_info` pick the pointers of their unions. Fields are C paths
 * of the layouts in `tables.ts`; their offsets come from the IR, so the native rules and
 * @ebpf/uapi's layouts can only agree. Emitted as packages/sys/src/generated/bpf-rules.generated.h.
 */

/** How the length behind a pointer field is bounded (`Rule` of packages/sys/src/rules.h). */
export type PointerRule =
  /** At least u32 `len` × `unit` bytes. */
  | 'len'
  /** As `len`, and `len` must not be 0 (the kernel would not bound the write). */
  | 'lenNonZero'
  /** At least u32 `len` (a count) × max(u32 `rec` (a record size), `unit`) bytes. */
  | 'countRecord'
  /** A NUL within the buffer (the kernel reads a C string). */
  | 'string'
  /** At least the map's key size. */
  | 'mapKey'
  /** At least the map's value size (per CPU for per-CPU maps). */
  | 'mapValue'
  /** At least max(key size, 4): hash maps use a u32 bucket, others a key. */
  | 'batchToken'
  /** At least u32 `len` (a count) × key size. */
  | 'batchKeys'
  /** At least u32 `len` (a count) × value size. */
  | 'batchValues'
  /** BPF_PROG_LOAD's fd_array: `len` × 4 bytes and every index the instructions use. */
  | 'fdArray'
  /** BPF_OBJ_GET_INFO_BY_FD's info: u32 `len` bytes, with the nested pointers of the info. */
  | 'info'
  /** u32 `len` C strings given back to back; native builds the array of pointers. */
  | 'stringArray';

/** One pointer field of a layout and the rule that bounds it. */
export interface PointerRow {
  /** C path inside the layout (`kprobe_multi.syms`). */
  readonly field: string;
  readonly rule: PointerRule;
  /** The u32 field holding the length or count. */
  readonly len?: string;
  /** The u32 field holding the record size (`countRecord`). */
  readonly rec?: string;
  /** Bytes per unit of `len` (or the least record size for `countRecord`); 1 if not given. */
  readonly unit?: number;
}

/** A named set of pointer fields inside one layout of `tables.ts`. */
export interface PointerGroup {
  /** A layout row name (`ProgLoadAttr`). */
  readonly layout: string;
  readonly pointers: readonly PointerRow[];
}

/** Pointer groups by name; the C array is `kPointers<name>`. */
export const pointerGroups = {
  MapCreate: {
    layout: 'MapCreateAttr',
    pointers: [{ field: 'excl_prog_hash', rule: 'len', len: 'excl_prog_hash_size' }],
  },
  ElemKeyValue: {
    layout: 'MapElemAttr',
    pointers: [
      { field: 'key', rule: 'mapKey' },
      { field: 'value', rule: 'mapValue' },
    ],
  },
  ElemKey: { layout: 'MapElemAttr', pointers: [{ field: 'key', rule: 'mapKey' }] },
  ElemNextKey: {
    layout: 'MapElemAttr',
    pointers: [
      { field: 'key', rule: 'mapKey' },
      { field: 'next_key', rule: 'mapKey' },
    ],
  },
  ProgLoad: {
    layout: 'ProgLoadAttr',
    pointers: [
      { field: 'insns', rule: 'len', len: 'insn_cnt', unit: 8 }, // sizeof(struct bpf_insn)
      { field: 'license', rule: 'string' },
      { field: 'log_buf', rule: 'len', len: 'log_size' },
      { field: 'func_info', rule: 'countRecord', len: 'func_info_cnt', rec: 'func_info_rec_size', unit: 0 },
      { field: 'line_info', rule: 'countRecord', len: 'line_info_cnt', rec: 'line_info_rec_size', unit: 0 },
      { field: 'fd_array', rule: 'fdArray', len: 'fd_array_cnt', unit: 4 },
      { field: 'core_relos', rule: 'countRecord', len: 'core_relo_cnt', rec: 'core_relo_rec_size', unit: 0 },
      { field: 'signature', rule: 'len', len: 'signature_size' },
    ],
  },
  Obj: { layout: 'ObjAttr', pointers: [{ field: 'pathname', rule: 'string' }] },
  TestRun: {
    layout: 'TestRunAttr',
    pointers: [
      { field: 'data_in', rule: 'len', len: 'data_size_in' },
      { field: 'data_out', rule: 'lenNonZero', len: 'data_size_out' },
      { field: 'ctx_in', rule: 'len', len: 'ctx_size_in' },
      { field: 'ctx_out', rule: 'len', len: 'ctx_size_out' },
    ],
  },
  Info: { layout: 'InfoAttr', pointers: [{ field: 'info', rule: 'info', len: 'info_len' }] },
  Query: {
    layout: 'QueryAttr',
    pointers: [
      { field: 'prog_ids', rule: 'len', len: 'prog_cnt', unit: 4 },
      { field: 'prog_attach_flags', rule: 'len', len: 'prog_cnt', unit: 4 },
      { field: 'link_ids', rule: 'len', len: 'prog_cnt', unit: 4 },
      { field: 'link_attach_flags', rule: 'len', len: 'prog_cnt', unit: 4 },
    ],
  },
  RawTracepoint: { layout: 'RawTracepointOpenAttr', pointers: [{ field: 'name', rule: 'string' }] },
  BtfLoad: {
    layout: 'BtfLoadAttr',
    pointers: [
      { field: 'btf', rule: 'len', len: 'btf_size' },
      { field: 'btf_log_buf', rule: 'len', len: 'btf_log_size' },
    ],
  },
  TaskFdQuery: { layout: 'TaskFdQueryAttr', pointers: [{ field: 'buf', rule: 'len', len: 'buf_len' }] },
  Batch: {
    layout: 'MapBatchAttr',
    pointers: [
      { field: 'in_batch', rule: 'batchToken' },
      { field: 'out_batch', rule: 'batchToken' },
      { field: 'keys', rule: 'batchKeys', len: 'count' },
      { field: 'values', rule: 'batchValues', len: 'count' },
    ],
  },
  StreamRead: {
    layout: 'ProgStreamReadAttr',
    pointers: [{ field: 'stream_buf', rule: 'len', len: 'stream_buf_len' }],
  },
  // link_create's union after `flags`, by attach type (see linkCreateByAttachType).
  LinkIter: {
    layout: 'LinkCreateAttr',
    pointers: [{ field: 'iter_info', rule: 'len', len: 'iter_info_len' }],
  },
  LinkKprobeMulti: {
    layout: 'LinkCreateAttr',
    pointers: [
      { field: 'kprobe_multi.syms', rule: 'stringArray', len: 'kprobe_multi.cnt' },
      { field: 'kprobe_multi.addrs', rule: 'len', len: 'kprobe_multi.cnt', unit: 8 },
      { field: 'kprobe_multi.cookies', rule: 'len', len: 'kprobe_multi.cnt', unit: 8 },
    ],
  },
  LinkUprobeMulti: {
    layout: 'LinkCreateAttr',
    pointers: [
      { field: 'uprobe_multi.path', rule: 'string' },
      { field: 'uprobe_multi.offsets', rule: 'len', len: 'uprobe_multi.cnt', unit: 8 },
      { field: 'uprobe_multi.ref_ctr_offsets', rule: 'len', len: 'uprobe_multi.cnt', unit: 8 },
      { field: 'uprobe_multi.cookies', rule: 'len', len: 'uprobe_multi.cnt', unit: 8 },
    ],
  },
  // The info structs of BPF_OBJ_GET_INFO_BY_FD.
  ProgInfo: {
    layout: 'ProgInfo',
    pointers: [
      { field: 'jited_prog_insns', rule: 'len', len: 'jited_prog_len' },
      { field: 'xlated_prog_insns', rule: 'len', len: 'xlated_prog_len' },
      { field: 'map_ids', rule: 'len', len: 'nr_map_ids', unit: 4 },
      { field: 'jited_ksyms', rule: 'len', len: 'nr_jited_ksyms', unit: 8 },
      { field: 'jited_func_lens', rule: 'len', len: 'nr_jited_func_lens', unit: 4 },
      // The least record sizes are sizeof(bpf_func_info), sizeof(bpf_line_info) and sizeof(__u64).
      { field: 'func_info', rule: 'countRecord', len: 'nr_func_info', rec: 'func_info_rec_size', unit: 8 },
      { field: 'line_info', rule: 'countRecord', len: 'nr_line_info', rec: 'line_info_rec_size', unit: 16 },
      {
        field: 'jited_line_info',
        rule: 'countRecord',
        len: 'nr_jited_line_info',
        rec: 'jited_line_info_rec_size',
        unit: 8,
      },
      { field: 'prog_tags', rule: 'len', len: 'nr_prog_tags', unit: 8 }, // BPF_TAG_SIZE
    ],
  },
  MapInfo: { layout: 'MapInfo', pointers: [{ field: 'hash', rule: 'len', len: 'hash_size' }] },
  BtfInfo: {
    layout: 'BtfInfo',
    pointers: [
      { field: 'btf', rule: 'len', len: 'btf_size' },
      { field: 'name', rule: 'len', len: 'name_len' },
    ],
  },
  LinkInfoRawTracepoint: {
    layout: 'LinkInfo',
    pointers: [{ field: 'raw_tracepoint.tp_name', rule: 'len', len: 'raw_tracepoint.tp_name_len' }],
  },
  LinkInfoIter: {
    layout: 'LinkInfo',
    pointers: [{ field: 'iter.target_name', rule: 'len', len: 'iter.target_name_len' }],
  },
  LinkInfoKprobeMulti: {
    layout: 'LinkInfo',
    pointers: [
      { field: 'kprobe_multi.addrs', rule: 'len', len: 'kprobe_multi.count', unit: 8 },
      { field: 'kprobe_multi.cookies', rule: 'len', len: 'kprobe_multi.count', unit: 8 },
    ],
  },
  LinkInfoUprobeMulti: {
    layout: 'LinkInfo',
    pointers: [
      { field: 'uprobe_multi.path', rule: 'len', len: 'uprobe_multi.path_size' },
      { field: 'uprobe_multi.offsets', rule: 'len', len: 'uprobe_multi.count', unit: 8 },
      { field: 'uprobe_multi.ref_ctr_offsets', rule: 'len', len: 'uprobe_multi.count', unit: 8 },
      { field: 'uprobe_multi.cookies', rule: 'len', len: 'uprobe_multi.count', unit: 8 },
    ],
  },
  LinkInfoPerfUprobe: {
    layout: 'LinkInfo',
    pointers: [{ field: 'perf_event.uprobe.file_name', rule: 'len', len: 'perf_event.uprobe.name_len' }],
  },
  LinkInfoPerfKprobe: {
    layout: 'LinkInfo',
    pointers: [{ field: 'perf_event.kprobe.func_name', rule: 'len', len: 'perf_event.kprobe.name_len' }],
  },
  LinkInfoPerfTracepoint: {
    layout: 'LinkInfo',
    pointers: [
      { field: 'perf_event.tracepoint.tp_name', rule: 'len', len: 'perf_event.tracepoint.name_len' },
    ],
  },
} as const satisfies Record<string, PointerGroup>;

/** A pointer group's name. */
export type GroupName = keyof typeof pointerGroups;

/** One bpf command as native checks it. */
export interface CommandRow {
  /** The `enum bpf_cmd` enumerator. */
  readonly cmd: string;
  /** Its attr's layout row in `tables.ts` (the size native copies, and the fields it knows)... */
  readonly layout: string;
  /** ...up to and including this field only, when the command uses the head of a shared layout. */
  readonly through?: string;
  /** Its pointer fields (none if not given; BPF_LINK_CREATE's come from linkCreateByAttachType). */
  readonly pointers?: GroupName;
  /** The field with the map fd that map-derived sizes (`mapKey`, ...) come from. */
  readonly mapFd?: string;
  /** The result is a new fd. */
  readonly returnsFd?: boolean;
}

/** Every bpf command of the IR must have a row: a new command is a conscious choice. */
export const commandRows: readonly CommandRow[] = [
  { cmd: 'BPF_MAP_CREATE', layout: 'MapCreateAttr', pointers: 'MapCreate', returnsFd: true },
  { cmd: 'BPF_MAP_LOOKUP_ELEM', layout: 'MapElemAttr', pointers: 'ElemKeyValue', mapFd: 'map_fd' },
  { cmd: 'BPF_MAP_UPDATE_ELEM', layout: 'MapElemAttr', pointers: 'ElemKeyValue', mapFd: 'map_fd' },
  { cmd: 'BPF_MAP_DELETE_ELEM', layout: 'MapElemAttr', pointers: 'ElemKey', mapFd: 'map_fd' },
  { cmd: 'BPF_MAP_GET_NEXT_KEY', layout: 'MapElemAttr', pointers: 'ElemNextKey', mapFd: 'map_fd' },
  { cmd: 'BPF_PROG_LOAD', layout: 'ProgLoadAttr', pointers: 'ProgLoad', returnsFd: true },
  { cmd: 'BPF_OBJ_PIN', layout: 'ObjAttr', pointers: 'Obj' },
  { cmd: 'BPF_OBJ_GET', layout: 'ObjAttr', pointers: 'Obj', returnsFd: true },
  { cmd: 'BPF_PROG_ATTACH', layout: 'ProgAttachAttr' },
  { cmd: 'BPF_PROG_DETACH', layout: 'ProgAttachAttr' },
  { cmd: 'BPF_PROG_TEST_RUN', layout: 'TestRunAttr', pointers: 'TestRun' },
  { cmd: 'BPF_PROG_GET_NEXT_ID', layout: 'GetIdAttr' },
  { cmd: 'BPF_MAP_GET_NEXT_ID', layout: 'GetIdAttr' },
  { cmd: 'BPF_PROG_GET_FD_BY_ID', layout: 'GetIdAttr', returnsFd: true },
  { cmd: 'BPF_MAP_GET_FD_BY_ID', layout: 'GetIdAttr', returnsFd: true },
  { cmd: 'BPF_OBJ_GET_INFO_BY_FD', layout: 'InfoAttr', pointers: 'Info' },
  { cmd: 'BPF_PROG_QUERY', layout: 'QueryAttr', pointers: 'Query' },
  {
    cmd: 'BPF_RAW_TRACEPOINT_OPEN',
    layout: 'RawTracepointOpenAttr',
    pointers: 'RawTracepoint',
    returnsFd: true,
  },
  { cmd: 'BPF_BTF_LOAD', layout: 'BtfLoadAttr', pointers: 'BtfLoad', returnsFd: true },
  { cmd: 'BPF_BTF_GET_FD_BY_ID', layout: 'GetIdAttr', returnsFd: true },
  { cmd: 'BPF_TASK_FD_QUERY', layout: 'TaskFdQueryAttr', pointers: 'TaskFdQuery' },
  { cmd: 'BPF_MAP_LOOKUP_AND_DELETE_ELEM', layout: 'MapElemAttr', pointers: 'ElemKeyValue', mapFd: 'map_fd' },
  { cmd: 'BPF_MAP_FREEZE', layout: 'MapElemAttr', through: 'map_fd' },
  { cmd: 'BPF_BTF_GET_NEXT_ID', layout: 'GetIdAttr' },
  { cmd: 'BPF_MAP_LOOKUP_BATCH', layout: 'MapBatchAttr', pointers: 'Batch', mapFd: 'map_fd' },
  { cmd: 'BPF_MAP_LOOKUP_AND_DELETE_BATCH', layout: 'MapBatchAttr', pointers: 'Batch', mapFd: 'map_fd' },
  { cmd: 'BPF_MAP_UPDATE_BATCH', layout: 'MapBatchAttr', pointers: 'Batch', mapFd: 'map_fd' },
  { cmd: 'BPF_MAP_DELETE_BATCH', layout: 'MapBatchAttr', pointers: 'Batch', mapFd: 'map_fd' },
  { cmd: 'BPF_LINK_CREATE', layout: 'LinkCreateAttr', returnsFd: true },
  { cmd: 'BPF_LINK_UPDATE', layout: 'LinkUpdateAttr' },
  { cmd: 'BPF_LINK_GET_FD_BY_ID', layout: 'GetIdAttr', returnsFd: true },
  { cmd: 'BPF_LINK_GET_NEXT_ID', layout: 'GetIdAttr' },
  { cmd: 'BPF_ENABLE_STATS', layout: 'EnableStatsAttr' },
  { cmd: 'BPF_ITER_CREATE', layout: 'IterCreateAttr', returnsFd: true },
  { cmd: 'BPF_LINK_DETACH', layout: 'LinkDetachAttr' },
  { cmd: 'BPF_PROG_BIND_MAP', layout: 'ProgBindMapAttr' },
  { cmd: 'BPF_TOKEN_CREATE', layout: 'TokenCreateAttr', returnsFd: true },
  { cmd: 'BPF_PROG_STREAM_READ_BY_FD', layout: 'ProgStreamReadAttr', pointers: 'StreamRead' },
];

/** A union member picked by an enum value (the kernel's own switch). */
export interface UnionChoice {
  /** Enumerators that select the member. */
  readonly when: readonly string[];
  readonly pointers: GroupName;
}

/** BPF_LINK_CREATE: the member after `flags` by `attach_type` (the kernel's link_create()). */
export const linkCreateByAttachType: readonly UnionChoice[] = [
  { when: ['BPF_TRACE_ITER'], pointers: 'LinkIter' },
  { when: ['BPF_TRACE_KPROBE_MULTI', 'BPF_TRACE_KPROBE_SESSION'], pointers: 'LinkKprobeMulti' },
  { when: ['BPF_TRACE_UPROBE_MULTI', 'BPF_TRACE_UPROBE_SESSION'], pointers: 'LinkUprobeMulti' },
];

/** bpf_link_info: the member by link `type`; perf_event links by `perf_event.type` too. */
export const linkInfoByType: readonly UnionChoice[] = [
  { when: ['BPF_LINK_TYPE_RAW_TRACEPOINT'], pointers: 'LinkInfoRawTracepoint' },
  { when: ['BPF_LINK_TYPE_ITER'], pointers: 'LinkInfoIter' },
  { when: ['BPF_LINK_TYPE_KPROBE_MULTI'], pointers: 'LinkInfoKprobeMulti' },
  { when: ['BPF_LINK_TYPE_UPROBE_MULTI'], pointers: 'LinkInfoUprobeMulti' },
];
export const linkInfoByPerfType: readonly UnionChoice[] = [
  { when: ['BPF_PERF_EVENT_UPROBE', 'BPF_PERF_EVENT_URETPROBE'], pointers: 'LinkInfoPerfUprobe' },
  { when: ['BPF_PERF_EVENT_KPROBE', 'BPF_PERF_EVENT_KRETPROBE'], pointers: 'LinkInfoPerfKprobe' },
  { when: ['BPF_PERF_EVENT_TRACEPOINT'], pointers: 'LinkInfoPerfTracepoint' },
];

/** The info structs native knows, by the C name prefix of their constants (`kProgInfo...`). */
export const infoStructs: Readonly<Record<string, { layout: string; pointers?: GroupName }>> = {
  ProgInfo: { layout: 'ProgInfo', pointers: 'ProgInfo' },
  MapInfo: { layout: 'MapInfo', pointers: 'MapInfo' },
  BtfInfo: { layout: 'BtfInfo', pointers: 'BtfInfo' },
  LinkInfo: { layout: 'LinkInfo' },
};

/**
 * Attr and info structs that native code fills or reads field by field itself (the map hot
 * paths, the test runner, the size cache): emitted as C structs with size and offset checks, so
 * no .cc file lays out a kernel struct by hand. Key: the C struct's name; value: a layout row.
 */
export const nativeStructs: Readonly<Record<string, string>> = {
  MapCreateAttr: 'MapCreateAttr',
  MapElemAttr: 'MapElemAttr',
  TestRunAttr: 'TestRunAttr',
  InfoAttr: 'InfoAttr',
  MapInfo: 'MapInfo',
};

/**
 * Map-type predicates native code needs, as lists of `bpf_map_type` names: the types whose values
 * the kernel copies once per possible CPU (`bpf_map_value_size()`), and those whose user-visible
 * values are u32 ids or fds (`IS_FD_MAP()`).
 */
export const mapTypeSets: Readonly<Record<string, readonly string[]>> = {
  IsPerCpuMapType: [
    'BPF_MAP_TYPE_PERCPU_HASH',
    'BPF_MAP_TYPE_PERCPU_ARRAY',
    'BPF_MAP_TYPE_LRU_PERCPU_HASH',
    'BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE',
  ],
  IsFdMapType: [
    'BPF_MAP_TYPE_PROG_ARRAY',
    'BPF_MAP_TYPE_PERF_EVENT_ARRAY',
    'BPF_MAP_TYPE_CGROUP_ARRAY',
    'BPF_MAP_TYPE_ARRAY_OF_MAPS',
    'BPF_MAP_TYPE_HASH_OF_MAPS',
  ],
};
