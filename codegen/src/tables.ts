/**
 * The tables that turn C-level facts into @ebpf/uapi's exports: which C enums and `#define`s form
 * which TypeScript enum, which `union bpf_attr` member is which attr layout, which `__aligned_u64`
 * fields carry user-space addresses. Adding a kernel feature usually means adding a row here.
 */

/** One generated enum: where its members come from and which prefix their C names drop. */
export interface EnumRow {
  /** Exported name (`MapType`). */
  readonly name: string;
  /** TSDoc summary. */
  readonly doc: string;
  /** Members are the enumerators of this C enum (`bpf_map_type`)... */
  readonly cEnum?: string;
  /** ...or of the anonymous C enum that declares this enumerator... */
  readonly anonEnumWith?: string;
  /** ...or exactly these constants (`#define`s or enumerators), in this order. */
  readonly members?: readonly string[];
  /** Prefix(es) removed from the C name before PascalCasing; the first that matches is used. */
  readonly prefix: string | readonly string[];
  /** Bit flags: documented as such (combine with `|`). */
  readonly flags?: boolean;
}

/** Enumerators never recorded or exported: sentinels that grow with every kernel (`__MAX_BPF_CMD`, `BPF_TCP_MAX_STATES`, `NR_BTF_KINDS`). */
export const EXCLUDED_ENUMERATOR = /^__|^NR_|(^|_)MAX(_|$)/;

export const enumRows: readonly EnumRow[] = [
  // Syscall-level enums, from named C enums.
  {
    name: 'Cmd',
    doc: 'Commands of the `bpf(2)` syscall (`enum bpf_cmd`).',
    cEnum: 'bpf_cmd',
    prefix: 'BPF_',
  },
  {
    name: 'MapType',
    doc: 'Map types (`enum bpf_map_type`).',
    cEnum: 'bpf_map_type',
    prefix: 'BPF_MAP_TYPE_',
  },
  {
    name: 'ProgType',
    doc: 'Program types (`enum bpf_prog_type`).',
    cEnum: 'bpf_prog_type',
    prefix: 'BPF_PROG_TYPE_',
  },
  {
    name: 'AttachType',
    doc: 'Attach types (`enum bpf_attach_type`).',
    cEnum: 'bpf_attach_type',
    prefix: 'BPF_',
  },
  {
    name: 'LinkType',
    doc: 'Link types (`enum bpf_link_type`).',
    cEnum: 'bpf_link_type',
    prefix: 'BPF_LINK_TYPE_',
  },
  {
    name: 'FuncId',
    doc: 'Helper function ids, the `imm` of a helper call (`enum bpf_func_id`). Signatures: {@link @ebpf/uapi!helperSignatures}.',
    cEnum: 'bpf_func_id',
    prefix: 'BPF_FUNC_',
  },
  {
    name: 'XdpAction',
    doc: 'XDP program return codes (`enum xdp_action`).',
    cEnum: 'xdp_action',
    prefix: 'XDP_',
  },
  { name: 'SkAction', doc: 'Socket program verdicts (`enum sk_action`).', cEnum: 'sk_action', prefix: 'SK_' },
  {
    name: 'StatsType',
    doc: 'Statistics for `BPF_ENABLE_STATS` (`enum bpf_stats_type`).',
    cEnum: 'bpf_stats_type',
    prefix: 'BPF_STATS_',
  },
  {
    name: 'TaskFdType',
    doc: 'What `BPF_TASK_FD_QUERY` found (`enum bpf_task_fd_type`).',
    cEnum: 'bpf_task_fd_type',
    prefix: 'BPF_FD_TYPE_',
  },
  {
    name: 'StackBuildIdStatus',
    doc: 'Status of a `struct bpf_stack_build_id` entry (`enum bpf_stack_build_id_status`).',
    cEnum: 'bpf_stack_build_id_status',
    prefix: 'BPF_STACK_BUILD_ID_',
  },
  {
    name: 'CgroupIterOrder',
    doc: 'Walk order of cgroup iterators (`enum bpf_cgroup_iter_order`).',
    cEnum: 'bpf_cgroup_iter_order',
    prefix: 'BPF_CGROUP_ITER_',
  },
  {
    name: 'PerfEventType',
    doc: 'Perf event link kinds (`enum bpf_perf_event_type`).',
    cEnum: 'bpf_perf_event_type',
    prefix: 'BPF_PERF_EVENT_',
  },
  {
    name: 'CoreReloKind',
    doc: 'CO-RE relocation kinds (`enum bpf_core_relo_kind`).',
    cEnum: 'bpf_core_relo_kind',
    prefix: 'BPF_CORE_',
  },
  {
    name: 'CondPseudoJmp',
    doc: '`BPF_JCOND` jump kinds, in the `src_reg` (`enum bpf_cond_pseudo_jmp`).',
    cEnum: 'bpf_cond_pseudo_jmp',
    prefix: 'BPF_',
  },

  // Instruction encoding, from #defines of linux/bpf_common.h and linux/bpf.h.
  {
    name: 'InsnClass',
    doc: 'Instruction classes, the low 3 bits of the opcode.',
    members: ['BPF_LD', 'BPF_LDX', 'BPF_ST', 'BPF_STX', 'BPF_ALU', 'BPF_JMP', 'BPF_JMP32', 'BPF_ALU64'],
    prefix: 'BPF_',
  },
  {
    name: 'InsnSize',
    doc: 'Load/store sizes (opcode bits 3-4).',
    members: ['BPF_W', 'BPF_H', 'BPF_B', 'BPF_DW'],
    prefix: 'BPF_',
  },
  {
    name: 'InsnMode',
    doc: 'Load/store modes (opcode bits 5-7).',
    members: ['BPF_IMM', 'BPF_ABS', 'BPF_IND', 'BPF_MEM', 'BPF_MEMSX', 'BPF_ATOMIC'],
    prefix: 'BPF_',
  },
  {
    name: 'InsnSource',
    doc: 'Operand source of ALU and JMP instructions (opcode bit 3).',
    members: ['BPF_K', 'BPF_X'],
    prefix: 'BPF_',
  },
  {
    name: 'EndianSource',
    doc: 'Byte-swap direction of `BPF_END` (opcode bit 3).',
    members: ['BPF_TO_LE', 'BPF_TO_BE'],
    prefix: 'BPF_',
  },
  {
    name: 'AluOp',
    doc: 'ALU operations (opcode bits 4-7 of `BPF_ALU`/`BPF_ALU64`).',
    members: [
      'BPF_ADD',
      'BPF_SUB',
      'BPF_MUL',
      'BPF_DIV',
      'BPF_OR',
      'BPF_AND',
      'BPF_LSH',
      'BPF_RSH',
      'BPF_NEG',
      'BPF_MOD',
      'BPF_XOR',
      'BPF_MOV',
      'BPF_ARSH',
      'BPF_END',
    ],
    prefix: 'BPF_',
  },
  {
    name: 'JmpOp',
    doc: 'Jump operations (opcode bits 4-7 of `BPF_JMP`/`BPF_JMP32`).',
    members: [
      'BPF_JA',
      'BPF_JEQ',
      'BPF_JGT',
      'BPF_JGE',
      'BPF_JSET',
      'BPF_JNE',
      'BPF_JSGT',
      'BPF_JSGE',
      'BPF_CALL',
      'BPF_EXIT',
      'BPF_JLT',
      'BPF_JLE',
      'BPF_JSLT',
      'BPF_JSLE',
      'BPF_JCOND',
    ],
    prefix: 'BPF_',
  },
  {
    name: 'AtomicOp',
    doc: 'Atomic operations, the `imm` of `BPF_STX | BPF_ATOMIC` (add/or/and/xor use {@link AluOp}, optionally `| Fetch`).',
    members: ['BPF_FETCH', 'BPF_XCHG', 'BPF_CMPXCHG', 'BPF_LOAD_ACQ', 'BPF_STORE_REL'],
    prefix: 'BPF_',
  },
  {
    name: 'PseudoSrc',
    doc: 'Pseudo `src_reg` values of the 64-bit immediate load (`BPF_LD | BPF_IMM | BPF_DW`).',
    members: [
      'BPF_PSEUDO_MAP_FD',
      'BPF_PSEUDO_MAP_VALUE',
      'BPF_PSEUDO_BTF_ID',
      'BPF_PSEUDO_FUNC',
      'BPF_PSEUDO_MAP_IDX',
      'BPF_PSEUDO_MAP_IDX_VALUE',
    ],
    prefix: 'BPF_PSEUDO_',
  },
  {
    name: 'PseudoCall',
    doc: 'Pseudo `src_reg` values of `BPF_CALL`: 0 is a helper call.',
    members: ['BPF_PSEUDO_CALL', 'BPF_PSEUDO_KFUNC_CALL'],
    prefix: 'BPF_PSEUDO_',
  },

  // Flag families of the syscall.
  {
    name: 'MapFlags',
    doc: '`map_flags` of `BPF_MAP_CREATE`.',
    anonEnumWith: 'BPF_F_NO_PREALLOC',
    prefix: 'BPF_F_',
    flags: true,
  },
  {
    name: 'UpdateFlags',
    doc: '`flags` of `BPF_MAP_UPDATE_ELEM` and `BPF_MAP_LOOKUP_ELEM` (`FLock`).',
    anonEnumWith: 'BPF_ANY',
    prefix: 'BPF_',
    flags: true,
  },
  {
    name: 'ProgLoadFlags',
    doc: '`prog_flags` of `BPF_PROG_LOAD`.',
    members: [
      'BPF_F_STRICT_ALIGNMENT',
      'BPF_F_ANY_ALIGNMENT',
      'BPF_F_TEST_RND_HI32',
      'BPF_F_TEST_STATE_FREQ',
      'BPF_F_SLEEPABLE',
      'BPF_F_XDP_HAS_FRAGS',
      'BPF_F_XDP_DEV_BOUND_ONLY',
      'BPF_F_TEST_REG_INVARIANTS',
      'BPF_F_TOKEN_FD',
    ],
    prefix: 'BPF_F_',
    flags: true,
  },
  {
    name: 'AttachFlags',
    doc: '`attach_flags` of `BPF_PROG_ATTACH` and `flags` of mprog links (tcx, netkit, cgroup).',
    members: [
      'BPF_F_ALLOW_OVERRIDE',
      'BPF_F_ALLOW_MULTI',
      'BPF_F_REPLACE',
      'BPF_F_BEFORE',
      'BPF_F_AFTER',
      'BPF_F_ID',
      'BPF_F_PREORDER',
      'BPF_F_LINK',
    ],
    prefix: 'BPF_F_',
    flags: true,
  },
  {
    name: 'QueryFlags',
    doc: '`query_flags` of `BPF_PROG_QUERY`.',
    members: ['BPF_F_QUERY_EFFECTIVE'],
    prefix: 'BPF_F_',
    flags: true,
  },
  {
    name: 'TestRunFlags',
    doc: '`flags` of `BPF_PROG_TEST_RUN`.',
    members: ['BPF_F_TEST_RUN_ON_CPU', 'BPF_F_TEST_XDP_LIVE_FRAMES', 'BPF_F_TEST_SKB_CHECKSUM_COMPLETE'],
    prefix: 'BPF_F_',
    flags: true,
  },
  {
    name: 'ObjFlags',
    doc: '`file_flags` of `BPF_OBJ_PIN`/`BPF_OBJ_GET` and `open_flags` of `BPF_*_GET_FD_BY_ID`.',
    members: ['BPF_F_RDONLY', 'BPF_F_WRONLY', 'BPF_F_PATH_FD'],
    prefix: 'BPF_F_',
    flags: true,
  },
  {
    name: 'LinkCreateFlags',
    doc: '`link_create.{kprobe_multi,uprobe_multi}.flags`: both kinds use bit 0 for return probes.',
    members: ['BPF_F_KPROBE_MULTI_RETURN', 'BPF_F_UPROBE_MULTI_RETURN'],
    prefix: 'BPF_F_',
    flags: true,
  },
  {
    name: 'NetfilterFlags',
    doc: '`link_create.netfilter.flags`.',
    members: ['BPF_F_NETFILTER_IP_DEFRAG'],
    prefix: 'BPF_F_',
    flags: true,
  },
  {
    name: 'XdpFlags',
    doc: 'Flags of XDP attachment (`IFLA_XDP_FLAGS` of linux/if_link.h, and `link_create.flags` for XDP links).',
    members: [
      'XDP_FLAGS_UPDATE_IF_NOEXIST',
      'XDP_FLAGS_SKB_MODE',
      'XDP_FLAGS_DRV_MODE',
      'XDP_FLAGS_HW_MODE',
      'XDP_FLAGS_REPLACE',
    ],
    prefix: 'XDP_FLAGS_',
    flags: true,
  },
  {
    name: 'PerfEventOutputFlags',
    doc: '`flags` of `bpf_perf_event_output()` and friends: a CPU index (or `CurrentCpu`) and a context length.',
    anonEnumWith: 'BPF_F_CURRENT_CPU',
    prefix: 'BPF_F_',
  },
  {
    name: 'RingbufFlags',
    doc: '`flags` of `bpf_ringbuf_output()`/`_submit()`/`_discard()`.',
    anonEnumWith: 'BPF_RB_NO_WAKEUP',
    prefix: 'BPF_RB_',
    flags: true,
  },
  {
    name: 'RingbufQuery',
    doc: '`flags` of `bpf_ringbuf_query()`: which figure of the ring buffer to return.',
    anonEnumWith: 'BPF_RB_AVAIL_DATA',
    prefix: 'BPF_RB_',
  },
  {
    name: 'RingbufHeader',
    doc: 'The 8-byte header before each ring buffer record: the length word carries `BusyBit` while the producer writes and `DiscardBit` for a discarded record.',
    anonEnumWith: 'BPF_RINGBUF_BUSY_BIT',
    prefix: 'BPF_RINGBUF_',
  },
  // The BTF format, from linux/btf.h.
  {
    name: 'BtfKind',
    doc: 'BTF type kinds, bits 24-28 of `btf_type.info` (anonymous enum of linux/btf.h).',
    anonEnumWith: 'BTF_KIND_INT',
    prefix: 'BTF_KIND_',
  },
  {
    name: 'BtfIntEncoding',
    doc: 'Encoding bits of a BTF int, bits 24-27 of the word after its `btf_type`.',
    members: ['BTF_INT_SIGNED', 'BTF_INT_CHAR', 'BTF_INT_BOOL'],
    prefix: 'BTF_INT_',
    flags: true,
  },
  {
    name: 'BtfVarLinkage',
    doc: 'Linkage of a BTF var (`btf_var.linkage`).',
    anonEnumWith: 'BTF_VAR_STATIC',
    prefix: 'BTF_VAR_',
  },
  {
    name: 'BtfFuncLinkage',
    doc: 'Linkage of a BTF func, its `vlen` (`enum btf_func_linkage`).',
    cEnum: 'btf_func_linkage',
    prefix: 'BTF_FUNC_',
  },
  {
    name: 'BtfFormat',
    doc: 'Magic and version of raw BTF (`btf_header.magic`, `btf_header.version`).',
    members: ['BTF_MAGIC', 'BTF_VERSION'],
    prefix: 'BTF_',
  },
  // perf_event_open(2), from linux/perf_event.h: what perf events and perf buffers take.
  {
    name: 'PerfType',
    doc: 'Event types, `perf_event_attr.type` (`enum perf_type_id`); dynamic PMUs (kprobe, uprobe) have theirs in sysfs.',
    cEnum: 'perf_type_id',
    prefix: 'PERF_TYPE_',
  },
  {
    name: 'PerfHwId',
    doc: 'Hardware events, `perf_event_attr.config` of `PerfType.Hardware` (`enum perf_hw_id`).',
    cEnum: 'perf_hw_id',
    prefix: 'PERF_COUNT_HW_',
  },
  {
    name: 'PerfSwId',
    doc: 'Software events, `perf_event_attr.config` of `PerfType.Software` (`enum perf_sw_ids`).',
    cEnum: 'perf_sw_ids',
    prefix: 'PERF_COUNT_SW_',
  },
  {
    name: 'PerfSample',
    doc: 'What a sample record carries, `perf_event_attr.sample_type` (`enum perf_event_sample_format`).',
    cEnum: 'perf_event_sample_format',
    prefix: 'PERF_SAMPLE_',
    flags: true,
  },
  {
    name: 'PerfRecord',
    doc: 'Record types of a perf ring buffer, `perf_event_header.type` (`enum perf_event_type`).',
    cEnum: 'perf_event_type',
    prefix: 'PERF_RECORD_',
  },
  {
    name: 'UapiLimits',
    doc: 'Sizes and limits the uapi fixes.',
    members: ['BPF_OBJ_NAME_LEN', 'BPF_TAG_SIZE', 'BPF_BUILD_ID_SIZE', 'BPF_MAXINSNS', 'XDP_PACKET_HEADROOM'],
    prefix: ['BPF_', 'XDP_'],
  },
];

/** One generated layout: a `union bpf_attr` member or a whole struct. */
export interface LayoutRow {
  readonly name: string;
  /** The `name` the layout object carries (for error messages). */
  readonly label: string;
  /** The C aggregate (`union bpf_attr`, `struct bpf_prog_info`). */
  readonly from: string;
  /** For `union bpf_attr`: the named member (`test`, `link_create`)... */
  readonly member?: string;
  /** ...or the anonymous member that contains this field. */
  readonly hasField?: string;
}

export const layoutRows: readonly LayoutRow[] = [
  { name: 'MapCreateAttr', label: 'bpf_attr (BPF_MAP_CREATE)', from: 'union bpf_attr', hasField: 'map_type' },
  { name: 'MapElemAttr', label: 'bpf_attr (BPF_MAP_*_ELEM)', from: 'union bpf_attr', hasField: 'next_key' },
  { name: 'MapBatchAttr', label: 'bpf_attr (BPF_MAP_*_BATCH)', from: 'union bpf_attr', member: 'batch' },
  { name: 'ProgLoadAttr', label: 'bpf_attr (BPF_PROG_LOAD)', from: 'union bpf_attr', hasField: 'insns' },
  {
    name: 'ObjAttr',
    label: 'bpf_attr (BPF_OBJ_PIN/BPF_OBJ_GET)',
    from: 'union bpf_attr',
    hasField: 'pathname',
  },
  {
    name: 'ProgAttachAttr',
    label: 'bpf_attr (BPF_PROG_ATTACH/DETACH)',
    from: 'union bpf_attr',
    hasField: 'attach_bpf_fd',
  },
  { name: 'TestRunAttr', label: 'bpf_attr (BPF_PROG_TEST_RUN)', from: 'union bpf_attr', member: 'test' },
  { name: 'GetIdAttr', label: 'bpf_attr (BPF_*_GET_*_ID)', from: 'union bpf_attr', hasField: 'start_id' },
  { name: 'InfoAttr', label: 'bpf_attr (BPF_OBJ_GET_INFO_BY_FD)', from: 'union bpf_attr', member: 'info' },
  { name: 'QueryAttr', label: 'bpf_attr (BPF_PROG_QUERY)', from: 'union bpf_attr', member: 'query' },
  {
    name: 'RawTracepointOpenAttr',
    label: 'bpf_attr (BPF_RAW_TRACEPOINT_OPEN)',
    from: 'union bpf_attr',
    member: 'raw_tracepoint',
  },
  { name: 'BtfLoadAttr', label: 'bpf_attr (BPF_BTF_LOAD)', from: 'union bpf_attr', hasField: 'btf_log_buf' },
  {
    name: 'TaskFdQueryAttr',
    label: 'bpf_attr (BPF_TASK_FD_QUERY)',
    from: 'union bpf_attr',
    member: 'task_fd_query',
  },
  {
    name: 'LinkCreateAttr',
    label: 'bpf_attr (BPF_LINK_CREATE)',
    from: 'union bpf_attr',
    member: 'link_create',
  },
  {
    name: 'LinkUpdateAttr',
    label: 'bpf_attr (BPF_LINK_UPDATE)',
    from: 'union bpf_attr',
    member: 'link_update',
  },
  {
    name: 'LinkDetachAttr',
    label: 'bpf_attr (BPF_LINK_DETACH)',
    from: 'union bpf_attr',
    member: 'link_detach',
  },
  {
    name: 'EnableStatsAttr',
    label: 'bpf_attr (BPF_ENABLE_STATS)',
    from: 'union bpf_attr',
    member: 'enable_stats',
  },
  {
    name: 'IterCreateAttr',
    label: 'bpf_attr (BPF_ITER_CREATE)',
    from: 'union bpf_attr',
    member: 'iter_create',
  },
  {
    name: 'ProgBindMapAttr',
    label: 'bpf_attr (BPF_PROG_BIND_MAP)',
    from: 'union bpf_attr',
    member: 'prog_bind_map',
  },
  {
    name: 'TokenCreateAttr',
    label: 'bpf_attr (BPF_TOKEN_CREATE)',
    from: 'union bpf_attr',
    member: 'token_create',
  },
  {
    name: 'ProgStreamReadAttr',
    label: 'bpf_attr (BPF_PROG_STREAM_READ_BY_FD)',
    from: 'union bpf_attr',
    member: 'prog_stream_read',
  },
  // Newer than 6.18: emitted when the inputs have it.
  {
    name: 'ProgAssocStructOpsAttr',
    label: 'bpf_attr (BPF_PROG_ASSOC_STRUCT_OPS)',
    from: 'union bpf_attr',
    member: 'prog_assoc_struct_ops',
  },
  { name: 'ProgInfo', label: 'struct bpf_prog_info', from: 'struct bpf_prog_info' },
  { name: 'MapInfo', label: 'struct bpf_map_info', from: 'struct bpf_map_info' },
  { name: 'LinkInfo', label: 'struct bpf_link_info', from: 'struct bpf_link_info' },
  { name: 'BtfInfo', label: 'struct bpf_btf_info', from: 'struct bpf_btf_info' },
  { name: 'XdpMd', label: 'struct xdp_md', from: 'struct xdp_md' },
  { name: 'SkBuff', label: 'struct __sk_buff', from: 'struct __sk_buff' },
  { name: 'Insn', label: 'struct bpf_insn', from: 'struct bpf_insn' },
  { name: 'FuncInfo', label: 'struct bpf_func_info', from: 'struct bpf_func_info' },
  { name: 'LineInfo', label: 'struct bpf_line_info', from: 'struct bpf_line_info' },
  { name: 'BtfHeader', label: 'struct btf_header', from: 'struct btf_header' },
  { name: 'BtfType', label: 'struct btf_type', from: 'struct btf_type' },
  { name: 'BtfArray', label: 'struct btf_array', from: 'struct btf_array' },
  { name: 'BtfMember', label: 'struct btf_member', from: 'struct btf_member' },
  { name: 'BtfParam', label: 'struct btf_param', from: 'struct btf_param' },
  { name: 'BtfVar', label: 'struct btf_var', from: 'struct btf_var' },
  { name: 'BtfVarSecinfo', label: 'struct btf_var_secinfo', from: 'struct btf_var_secinfo' },
  { name: 'BtfEnum', label: 'struct btf_enum', from: 'struct btf_enum' },
  { name: 'BtfEnum64', label: 'struct btf_enum64', from: 'struct btf_enum64' },
  { name: 'BtfDeclTag', label: 'struct btf_decl_tag', from: 'struct btf_decl_tag' },
  { name: 'CoreRelo', label: 'struct bpf_core_relo', from: 'struct bpf_core_relo' },
  { name: 'IterLinkInfo', label: 'union bpf_iter_link_info', from: 'union bpf_iter_link_info' },
  { name: 'PerfEventAttr', label: 'struct perf_event_attr', from: 'struct perf_event_attr' },
  { name: 'PerfEventHeader', label: 'struct perf_event_header', from: 'struct perf_event_header' },
  { name: 'PerfEventMmapPage', label: 'struct perf_event_mmap_page', from: 'struct perf_event_mmap_page' },
];

/** The C aggregates the extractor records in the IR (every `from` above). */
export const extractedAggregates: readonly string[] = [...new Set(layoutRows.map((r) => r.from))].sort();

/**
 * Fields of the attr and info layouts that carry a user-space address (their type is `'ptr'`), as
 * C paths inside the layout (`kprobe_multi.syms`). Every 64-bit field of those layouts must be
 * listed either here or in {@link notPointers}, so a new kernel's new field is a conscious choice.
 */
export const pointers: Readonly<Record<string, readonly string[]>> = {
  MapElemAttr: ['key', 'value', 'next_key'],
  MapBatchAttr: ['in_batch', 'out_batch', 'keys', 'values'],
  MapCreateAttr: ['excl_prog_hash'],
  ProgLoadAttr: [
    'insns',
    'license',
    'log_buf',
    'func_info',
    'line_info',
    'fd_array',
    'core_relos',
    'signature',
  ],
  ObjAttr: ['pathname'],
  TestRunAttr: ['data_in', 'data_out', 'ctx_in', 'ctx_out'],
  InfoAttr: ['info'],
  QueryAttr: ['prog_ids', 'prog_attach_flags', 'link_ids', 'link_attach_flags'],
  RawTracepointOpenAttr: ['name'],
  BtfLoadAttr: ['btf', 'btf_log_buf'],
  TaskFdQueryAttr: ['buf'],
  LinkCreateAttr: [
    'iter_info',
    'kprobe_multi.syms',
    'kprobe_multi.addrs',
    'kprobe_multi.cookies',
    'uprobe_multi.path',
    'uprobe_multi.offsets',
    'uprobe_multi.ref_ctr_offsets',
    'uprobe_multi.cookies',
    'tracing_multi.ids', // newer than 6.18
    'tracing_multi.cookies',
  ],
  ProgStreamReadAttr: ['stream_buf'],
  ProgInfo: [
    'jited_prog_insns',
    'xlated_prog_insns',
    'map_ids',
    'jited_ksyms',
    'jited_func_lens',
    'func_info',
    'line_info',
    'jited_line_info',
    'prog_tags',
  ],
  MapInfo: ['hash'], // the kernel copies the map's SHA-256 (6.18) to this address
  BtfInfo: ['btf', 'name'],
  LinkInfo: [
    'raw_tracepoint.tp_name',
    'iter.target_name',
    'kprobe_multi.addrs',
    'kprobe_multi.cookies',
    'uprobe_multi.path',
    'uprobe_multi.offsets',
    'uprobe_multi.ref_ctr_offsets',
    'uprobe_multi.cookies',
    'perf_event.uprobe.file_name',
    'perf_event.kprobe.func_name',
    'perf_event.tracepoint.tp_name',
    'tracing_multi.ids', // newer than 6.18
    'tracing_multi.addrs',
    'tracing_multi.cookies',
  ],
};

/** 64-bit fields of the attr and info layouts that are plain numbers, not addresses. */
export const notPointers: Readonly<Record<string, readonly string[]>> = {
  MapElemAttr: ['flags'],
  MapBatchAttr: ['elem_flags', 'flags'],
  MapCreateAttr: ['map_extra'],
  ProgLoadAttr: [],
  GetIdAttr: [],
  QueryAttr: ['revision'],
  ProgAttachAttr: ['expected_revision'],
  TaskFdQueryAttr: ['probe_offset', 'probe_addr'],
  RawTracepointOpenAttr: ['cookie'],
  LinkCreateAttr: [
    'perf_event.bpf_cookie',
    'tracing.cookie',
    'expected_revision',
    'uprobe_multi.pid',
    'tcx.expected_revision',
    'netkit.expected_revision',
    'cgroup.expected_revision',
  ],
  ProgInfo: ['load_time', 'run_time_ns', 'run_cnt', 'recursion_misses', 'netns_dev', 'netns_ino'],
  MapInfo: ['netns_dev', 'netns_ino', 'map_extra'],
  LinkInfo: [
    'raw_tracepoint.cookie',
    'tracing.cookie',
    'kprobe_multi.missed',
    'perf_event.uprobe.cookie',
    'perf_event.uprobe.ref_ctr_offset',
    'perf_event.kprobe.addr',
    'perf_event.kprobe.missed',
    'perf_event.kprobe.cookie',
    'perf_event.tracepoint.cookie',
    'perf_event.event.config',
    'perf_event.event.cookie',
    'cgroup.cgroup_id',
    'netns.netns_ino',
    'iter.cgroup.cgroup_id',
  ],
};

/**
 * How helper signatures are shown: the types a BPF program sees (the same rewrites libbpf's
 * `bpf_helper_defs.h` makes), so `struct bpf_map *map` reads `void *map`.
 */
export const helperTypeRewrites: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bstruct bpf_map \*/g, 'void *'],
  [/\bstruct sk_buff \*/g, 'struct __sk_buff *'],
  [/\bstruct xdp_buff \*/g, 'struct xdp_md *'],
  [/\bstruct sk_msg_buff \*/g, 'struct sk_msg_md *'],
];
