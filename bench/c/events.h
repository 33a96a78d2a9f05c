/* What workloads.c and libbpf.c share: the test run that fills a map, and the event producer. */
#ifndef BENCH_EVENTS_H
#define BENCH_EVENTS_H

#include "common.h"

static int test_run(int prog, const void *data, uint32_t size, uint32_t repeat, uint32_t *retval) {
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.test.prog_fd = (uint32_t)prog;
  a.test.data_in = ptr_to_u64(data);
  a.test.data_size_in = size;
  a.test.repeat = repeat;
  int rc = (int)sys_bpf(BPF_PROG_TEST_RUN, &a, sizeof(a));
  *retval = a.test.retval;
  return rc;
}

/*
 * W5's producer (W7's with `perf`): for (r6 = 0; r6 < 64; r6++) write { u64 r6, u64 0x5eed } to the
 * map with bpf_ringbuf_output(map, &rec, 16, 0), or with bpf_perf_event_output(ctx, map,
 * BPF_F_CURRENT_CPU, &rec, 16); return XDP_PASS.
 */
static int event_producer(int map, int perf) {
  struct bpf_insn prog[] = {
      insn(BPF_ALU64 | BPF_MOV | BPF_X, 7, 1, 0, 0),         /* r7 = ctx */
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 6, 0, 0, 0),         /* r6 = 0 */
      insn(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -8, 0x5eed),    /* *(u64 *)(r10 - 8) = 0x5eed */
      insn(BPF_STX | BPF_MEM | BPF_DW, 10, 6, -16, 0),       /* loop: *(u64 *)(r10 - 16) = r6 */
      insn(BPF_LD | BPF_DW | BPF_IMM, perf ? 2 : 1, BPF_PSEUDO_MAP_FD, 0, map), /* map */
      insn(0, 0, 0, 0, 0),
      insn(BPF_ALU64 | BPF_MOV | BPF_X, perf ? 4 : 2, 10, 0, 0),  /* &rec */
      insn(BPF_ALU64 | BPF_ADD | BPF_K, perf ? 4 : 2, 0, 0, -16),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, perf ? 5 : 3, 0, 0, 16),  /* size */
      perf ? insn(BPF_ALU | BPF_MOV | BPF_K, 3, 0, 0, -1)         /* BPF_F_CURRENT_CPU */
           : insn(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0),       /* flags 0 */
      perf ? insn(BPF_ALU64 | BPF_MOV | BPF_X, 1, 7, 0, 0)        /* ctx */
           : insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
      insn(BPF_JMP | BPF_CALL, 0, 0, 0, perf ? BPF_FUNC_perf_event_output : BPF_FUNC_ringbuf_output),
      insn(BPF_ALU64 | BPF_ADD | BPF_K, 6, 0, 0, 1),         /* r6 += 1 */
      insn(BPF_JMP | BPF_JLT | BPF_K, 6, 0, -11, 64),        /* if r6 < 64 goto loop */
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 2),         /* r0 = XDP_PASS */
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  static char log[1 << 20];
  int fd = prog_load(BPF_PROG_TYPE_XDP, prog, sizeof prog / sizeof prog[0], log, sizeof log, 1);
  CHECK(fd >= 0, "event producer load: %s", log);
  return fd;
}

#define RING_SIZE (16u << 20)
#define FILL_REPEAT 8192
#define RECORDS (FILL_REPEAT * 64L)

#endif
