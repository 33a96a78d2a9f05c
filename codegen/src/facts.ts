/**
 * Facts the inputs cannot supply. `#define`s are not in BTF, so constants that are newer than the
 * machine's linux/bpf.h (Debian's 6.1) are listed here with the kernel release that added them.
 * When the header also defines one, the extractor checks the two agree; a newer header makes a row
 * redundant but never wrong. Values are from the kernel's include/uapi/linux/bpf.h.
 */

/** A constant the header may lack, with the kernel version that introduced it. */
export interface ConstantFact {
  readonly name: string;
  readonly value: number;
  readonly since: string;
}

/** `#define`d constants newer than Debian 12's linux-libc-dev (6.1) headers. */
export const constantFacts: readonly ConstantFact[] = [
  { name: 'BPF_MEMSX', value: 0x80, since: '6.6' }, // sign-extending load mode
  { name: 'BPF_JCOND', value: 0xe0, since: '6.9' }, // conditional pseudo jumps (may_goto)
  { name: 'BPF_LOAD_ACQ', value: 0x100, since: '6.15' }, // atomic load-acquire (imm of BPF_ATOMIC)
  { name: 'BPF_STORE_REL', value: 0x110, since: '6.15' }, // atomic store-release (imm of BPF_ATOMIC)
  { name: 'BPF_F_BEFORE', value: 1 << 3, since: '6.6' }, // mprog attach: before relative_fd/id
  { name: 'BPF_F_AFTER', value: 1 << 4, since: '6.6' },
  { name: 'BPF_F_ID', value: 1 << 5, since: '6.6' }, // relative_id holds an id, not an fd
  { name: 'BPF_F_PREORDER', value: 1 << 6, since: '6.15' }, // cgroup: run before parent programs
  { name: 'BPF_F_XDP_DEV_BOUND_ONLY', value: 1 << 6, since: '6.3' }, // prog load
  { name: 'BPF_F_TEST_REG_INVARIANTS', value: 1 << 7, since: '6.8' }, // prog load (verifier self-test)
  { name: 'BPF_F_NETFILTER_IP_DEFRAG', value: 1 << 0, since: '6.6' }, // link_create.netfilter.flags
];

/** A helper signature the header's documentation lacks (helpers added after it). */
export interface HelperFact {
  readonly name: string;
  readonly signature: string;
  readonly since: string;
}

/** Helper C signatures newer than the 6.1 header (the helper list froze soon after; new work is kfuncs). */
export const helperFacts: readonly HelperFact[] = [
  {
    name: 'bpf_cgrp_storage_get',
    signature:
      'void *bpf_cgrp_storage_get(struct bpf_map *map, struct cgroup *cgroup, void *value, u64 flags)',
    since: '6.2',
  },
  {
    name: 'bpf_cgrp_storage_delete',
    signature: 'long bpf_cgrp_storage_delete(struct bpf_map *map, struct cgroup *cgroup)',
    since: '6.2',
  },
];
