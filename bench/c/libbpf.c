/*
 * The libbpf baselines (`libbpf W5|W7`), linked with -lbpf: W5 drained with libbpf's
 * ring_buffer__consume (shown beside the raw C walk as `C libbpf`), and W7, whose C baseline
 * BENCH.md defines as perf_buffer__new + perf_buffer__consume. The producers and the fill are
 * those of workloads.c; only the reader is libbpf's.
 */
#include <bpf/libbpf.h>

#include "events.h"

/* libbpf reports through stderr; its own figures are what we want on stdout. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list args) {
  return level == LIBBPF_WARN ? vfprintf(stderr, fmt, args) : 0;
}

struct totals {
  long count;
  uint64_t sum;
  uint64_t lost;
};

static int on_ring_record(void *ctx, void *data, size_t size) {
  struct totals *t = ctx;
  (void)size;
  t->sum += *(const uint64_t *)data;
  t->count++;
  return 0;
}

static void w5(void) {
  double r[TIMED_RUNS];
  int map = map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, RING_SIZE, 0);
  CHECK(map >= 0, "ringbuf create");
  int prog_fd = event_producer(map, 0);
  struct totals t;
  struct ring_buffer *rb = ring_buffer__new(map, on_ring_record, &t, NULL);
  CHECK(rb != NULL, "ring_buffer__new");
  static uint8_t packet[64];
  for (int run = 0; run < WARMUP_RUNS + TIMED_RUNS; run++) {
    uint32_t retval = 0;
    CHECK(test_run(prog_fd, packet, sizeof packet, FILL_REPEAT, &retval) == 0 && retval == 2, "ring fill");
    memset(&t, 0, sizeof t);
    uint64_t t0 = now_ns();
    while (t.count < RECORDS) CHECK(ring_buffer__consume(rb) > 0, "ring_buffer__consume");
    uint64_t t1 = now_ns();
    CHECK(t.count == RECORDS && t.sum == (uint64_t)FILL_REPEAT * 2016, "ring consumed %ld records, sum %llu",
          t.count, (unsigned long long)t.sum);
    if (run >= WARMUP_RUNS) r[run - WARMUP_RUNS] = ops_per_s(t0, t1, RECORDS);
  }
  emit_layer("c-libbpf", "W5.ringbuf.consume", "ops/s", RECORDS, r, TIMED_RUNS);
  ring_buffer__free(rb);
  close(prog_fd);
  close(map);
}

#define PERF_PAGES 64
#define PERF_RECORDS 65536L
#define PERF_REPEAT 64 /* 64 × 64 = 4,096 records per test run: half a CPU's ring */

static void on_perf_sample(void *ctx, int cpu, void *data, uint32_t size) {
  struct totals *t = ctx;
  (void)cpu;
  (void)size;
  t->sum += *(const uint64_t *)data;
  t->count++;
}

static void on_perf_lost(void *ctx, int cpu, unsigned long long lost) {
  struct totals *t = ctx;
  (void)cpu;
  t->lost += lost;
}

static void w7(void) {
  double r[TIMED_RUNS];
  int cpus = libbpf_num_possible_cpus();
  int map = map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, (uint32_t)cpus, 0);
  CHECK(map >= 0, "perf event array create");
  int prog_fd = event_producer(map, 1);
  struct totals t;
  struct perf_buffer *pb = perf_buffer__new(map, PERF_PAGES, on_perf_sample, on_perf_lost, &t, NULL);
  CHECK(pb != NULL, "perf_buffer__new");
  static uint8_t packet[64];
  for (int run = 0; run < WARMUP_RUNS + TIMED_RUNS; run++) {
    memset(&t, 0, sizeof t);
    long produced = 0;
    uint64_t t0 = now_ns();
    while (produced < PERF_RECORDS) {
      uint32_t retval = 0;
      CHECK(test_run(prog_fd, packet, sizeof packet, PERF_REPEAT, &retval) == 0 && retval == 2, "perf fill");
      produced += PERF_REPEAT * 64;
      CHECK(perf_buffer__consume(pb) == 0, "perf_buffer__consume");
    }
    uint64_t t1 = now_ns();
    /* Every record received or lost; with none lost, every one seen (the sum). */
    CHECK(t.count + (long)t.lost == produced && (t.lost > 0 || t.sum == (uint64_t)produced / 64 * 2016),
          "perf received %ld + lost %llu of %ld", t.count, (unsigned long long)t.lost, produced);
    if (run >= WARMUP_RUNS) r[run - WARMUP_RUNS] = ops_per_s(t0, t1, PERF_RECORDS);
  }
  emit("W7.perf.consume", "ops/s", PERF_RECORDS, r, TIMED_RUNS);
  perf_buffer__free(pb);
  close(prog_fd);
  close(map);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: libbpf W5|W7\n");
    return 2;
  }
  libbpf_set_print(quiet);
  if (!strcmp(argv[1], "W5")) w5();
  else if (!strcmp(argv[1], "W7")) w7();
  else {
    fprintf(stderr, "libbpf: unknown workload %s\n", argv[1]);
    return 2;
  }
  return 0;
}
