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

/** An errno the uapi headers lack. */
export interface ErrnoFact {
  readonly name: string;
  readonly value: number;
  readonly description: string;
}

/**
 * The kernel's internal errnos (include/linux/errno.h, not uapi) that reach user space from
 * bpf() all the same: ENOTSUPP above all, which many bpf commands return.
 */
export const errnoFacts: readonly ErrnoFact[] = [
  { name: 'ERESTARTSYS', value: 512, description: 'Restart the system call' },
  { name: 'ERESTARTNOINTR', value: 513, description: 'Restart the system call' },
  { name: 'ERESTARTNOHAND', value: 514, description: 'Restart if no handler' },
  { name: 'ENOIOCTLCMD', value: 515, description: 'No ioctl command' },
  { name: 'ERESTART_RESTARTBLOCK', value: 516, description: 'Restart by calling sys_restart_syscall' },
  { name: 'EPROBE_DEFER', value: 517, description: 'Driver requests probe retry' },
  { name: 'EOPENSTALE', value: 518, description: 'Open found a stale dentry' },
  { name: 'ENOPARAM', value: 519, description: 'Parameter not supported' },
  { name: 'EBADHANDLE', value: 521, description: 'Illegal NFS file handle' },
  { name: 'ENOTSYNC', value: 522, description: 'Update synchronization mismatch' },
  { name: 'EBADCOOKIE', value: 523, description: 'Cookie is stale' },
  { name: 'ENOTSUPP', value: 524, description: 'Operation is not supported' },
  { name: 'ETOOSMALL', value: 525, description: 'Buffer or request is too small' },
  { name: 'ESERVERFAULT', value: 526, description: 'An untranslatable error occurred' },
  { name: 'EBADTYPE', value: 527, description: 'Type not supported by server' },
  { name: 'EJUKEBOX', value: 528, description: 'Request initiated, but will not complete before timeout' },
  { name: 'EIOCBQUEUED', value: 529, description: 'iocb queued, will get completion event' },
  { name: 'ERECALLCONDITION', value: 530, description: 'Conflict with recalled state' },
];
