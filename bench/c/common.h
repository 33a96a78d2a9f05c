/* Shared by the C baseline programs of bench/: the raw bpf() syscall, the clock,
 * the run statistics and the JSON line every workload prints. No libbpf on purpose:
 * the baseline is what a program that calls the kernel directly costs. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define WARMUP_RUNS 1
#define TIMED_RUNS 5

static inline long sys_bpf(int cmd, union bpf_attr *attr, unsigned int size) {
  return syscall(__NR_bpf, cmd, attr, size);
}

static inline uint64_t ptr_to_u64(const void *p) { return (uint64_t)(uintptr_t)p; }

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Every failed check ends the process with a message on stderr and no figure on stdout. */
#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "bench-c: check failed at %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, " (errno %d: %s)\n", errno, strerror(errno));            \
      exit(2);                                                                 \
    }                                                                          \
  } while (0)

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median_of(const double *v, int n) {
  double s[64];
  memcpy(s, v, sizeof(double) * (size_t)n);
  qsort(s, (size_t)n, sizeof(double), cmp_double);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* One workload's result: id, unit ("ns/op" or "ops/s"), operations per run, every timed run. */
/* One figure of `layer` ("c", or "c-libbpf" for libbpf beside the raw C walk). */
static void emit_layer(const char *layer, const char *id, const char *unit, long ops, const double *runs, int n) {
  printf("{\"impl\":\"c\",\"layer\":\"%s\",\"id\":\"%s\",\"unit\":\"%s\",\"ops\":%ld,\"runs\":[", layer, id,
         unit, ops);
  for (int i = 0; i < n; i++) printf("%s%.6g", i ? "," : "", runs[i]);
  printf("],\"median\":%.6g}\n", median_of(runs, n));
  fflush(stdout);
}

static void emit(const char *id, const char *unit, long ops, const double *runs, int n) {
  emit_layer("c", id, unit, ops, runs, n);
}

static inline double ns_per_op(uint64_t t0, uint64_t t1, long ops) { return (double)(t1 - t0) / (double)ops; }
static inline double ops_per_s(uint64_t t0, uint64_t t1, long ops) { return (double)ops * 1e9 / (double)(t1 - t0); }

static int map_create(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries, uint32_t flags) {
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.map_type = type;
  a.key_size = key_size;
  a.value_size = value_size;
  a.max_entries = max_entries;
  a.map_flags = flags;
  return (int)sys_bpf(BPF_MAP_CREATE, &a, sizeof(a));
}

static int prog_load(uint32_t type, const struct bpf_insn *insns, uint32_t cnt, char *log, uint32_t log_size,
                     uint32_t log_level) {
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.prog_type = type;
  a.insns = ptr_to_u64(insns);
  a.insn_cnt = cnt;
  a.license = ptr_to_u64("GPL");
  a.log_buf = ptr_to_u64(log);
  a.log_size = log_size;
  a.log_level = log_level;
  return (int)sys_bpf(BPF_PROG_LOAD, &a, sizeof(a));
}

/* Instruction encoders: enough of the ISA for the bench programs. */
static inline struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  struct bpf_insn i;
  memset(&i, 0, sizeof(i));
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

#endif
