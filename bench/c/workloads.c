/* The C baseline for the workloads W0-W6 of shared/BENCH.md: raw bpf() calls, the same sizes
 * and the same method as the Node side (monotonic clock around the timed loop, 1 warm-up run,
 * 5 timed runs, every operation checked). Usage: workloads W0|W1|...|W6
 * Prints one JSON line per figure on stdout. */
#include <sys/mman.h>

#include "events.h"

#define N_KEYS 65536
#define RUNS (WARMUP_RUNS + TIMED_RUNS)

static void w0(void) {
  double r[TIMED_RUNS];
  pid_t parent = getppid();
  for (int run = 0; run < RUNS; run++) {
    uint64_t t0 = now_ns();
    for (long i = 0; i < N_KEYS; i++) CHECK(getppid() == parent, "getppid");
    uint64_t t1 = now_ns();
    if (run >= WARMUP_RUNS) r[run - WARMUP_RUNS] = ns_per_op(t0, t1, N_KEYS);
  }
  emit("W0.context", "ns/op", N_KEYS, r, TIMED_RUNS);
}

static int elem(int cmd, int fd, const void *key, void *value, uint64_t flags) {
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.map_fd = (uint32_t)fd;
  a.key = ptr_to_u64(key);
  a.value = ptr_to_u64(value);
  a.flags = flags;
  return (int)sys_bpf(cmd, &a, sizeof(a));
}

/* W1 (hash: update, lookup, delete) and W2 (array: update, lookup). */
static void w12(int hash) {
  const char *pfx = hash ? "W1.hash" : "W2.array";
  double up[TIMED_RUNS], look[TIMED_RUNS], del[TIMED_RUNS];
  int fd = map_create(hash ? BPF_MAP_TYPE_HASH : BPF_MAP_TYPE_ARRAY, 4, 8, N_KEYS, 0);
  CHECK(fd >= 0, "map create");
  for (int run = 0; run < RUNS; run++) {
    int t = run - WARMUP_RUNS;
    uint64_t t0 = now_ns();
    for (uint32_t k = 0; k < N_KEYS; k++) {
      uint64_t v = k;
      CHECK(elem(BPF_MAP_UPDATE_ELEM, fd, &k, &v, BPF_ANY) == 0, "update %u", k);
    }
    uint64_t t1 = now_ns();
    if (t >= 0) up[t] = ns_per_op(t0, t1, N_KEYS);
    t0 = now_ns();
    for (uint32_t k = 0; k < N_KEYS; k++) {
      uint64_t v = ~0ull;
      CHECK(elem(BPF_MAP_LOOKUP_ELEM, fd, &k, &v, 0) == 0 && v == k, "lookup %u", k);
    }
    t1 = now_ns();
    if (t >= 0) look[t] = ns_per_op(t0, t1, N_KEYS);
    if (!hash) continue;
    t0 = now_ns();
    for (uint32_t k = 0; k < N_KEYS; k++) CHECK(elem(BPF_MAP_DELETE_ELEM, fd, &k, NULL, 0) == 0, "delete %u", k);
    t1 = now_ns();
    if (t >= 0) del[t] = ns_per_op(t0, t1, N_KEYS);
  }
  char id[64];
  snprintf(id, sizeof id, "%s.update", pfx);
  emit(id, "ns/op", N_KEYS, up, TIMED_RUNS);
  snprintf(id, sizeof id, "%s.lookup", pfx);
  emit(id, "ns/op", N_KEYS, look, TIMED_RUNS);
  if (hash) {
    snprintf(id, sizeof id, "%s.delete", pfx);
    emit(id, "ns/op", N_KEYS, del, TIMED_RUNS);
  }
  close(fd);
}

#define BATCH 4096
#define WALKS 8

static void w3(void) {
  double r[TIMED_RUNS];
  static uint32_t keys[BATCH];
  static uint64_t values[BATCH];
  for (int run = 0; run < RUNS; run++) {
    int fd = map_create(BPF_MAP_TYPE_HASH, 4, 8, N_KEYS, 0);
    CHECK(fd >= 0, "map create");
    for (uint32_t k = 0; k < N_KEYS; k++) {
      uint64_t v = k;
      CHECK(elem(BPF_MAP_UPDATE_ELEM, fd, &k, &v, BPF_ANY) == 0, "fill %u", k);
    }
    uint64_t t0 = now_ns();
    for (int walk = 0; walk < WALKS; walk++) {
      uint64_t token = 0, sum = 0;
      long total = 0;
      int first = 1;
      for (;;) {
        union bpf_attr a;
        memset(&a, 0, sizeof(a));
        a.batch.in_batch = first ? 0 : ptr_to_u64(&token);
        a.batch.out_batch = ptr_to_u64(&token);
        a.batch.keys = ptr_to_u64(keys);
        a.batch.values = ptr_to_u64(values);
        a.batch.count = BATCH;
        a.batch.map_fd = (uint32_t)fd;
        long rc = sys_bpf(BPF_MAP_LOOKUP_BATCH, &a, sizeof(a));
        CHECK(rc == 0 || errno == ENOENT, "lookup batch");
        for (uint32_t i = 0; i < a.batch.count; i++) {
          CHECK(values[i] == keys[i], "batch value of %u", keys[i]);
          sum += keys[i];
        }
        total += a.batch.count;
        first = 0;
        if (rc != 0) break;
      }
      CHECK(total == N_KEYS && sum == (uint64_t)N_KEYS * (N_KEYS - 1) / 2, "walk returned %ld entries", total);
    }
    uint64_t t1 = now_ns();
    if (run >= WARMUP_RUNS) r[run - WARMUP_RUNS] = ops_per_s(t0, t1, (long)WALKS * N_KEYS);
    close(fd);
  }
  emit("W3.hash.lookup_batch", "ops/s", (long)WALKS * N_KEYS, r, TIMED_RUNS);
}

#define TEST_RUNS 100000

static void w4(void) {
  double r[TIMED_RUNS];
  struct bpf_insn prog[] = {
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 2), /* r0 = 2 (XDP_PASS) */
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),          /* exit */
  };
  static char log[65536];
  int fd = prog_load(BPF_PROG_TYPE_XDP, prog, 2, log, sizeof log, 1);
  CHECK(fd >= 0, "prog load: %s", log);
  static uint8_t packet[64];
  for (int run = 0; run < RUNS; run++) {
    uint64_t t0 = now_ns();
    for (long i = 0; i < TEST_RUNS; i++) {
      uint32_t retval = 0;
      CHECK(test_run(fd, packet, sizeof packet, 1, &retval) == 0 && retval == 2, "test run");
    }
    uint64_t t1 = now_ns();
    if (run >= WARMUP_RUNS) r[run - WARMUP_RUNS] = ns_per_op(t0, t1, TEST_RUNS);
  }
  emit("W4.test_run.syscall", "ns/op", TEST_RUNS, r, TIMED_RUNS);
  close(fd);
}


static void w5(void) {
  double r[TIMED_RUNS];
  int map = map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, RING_SIZE, 0);
  CHECK(map >= 0, "ringbuf create");
  int prog_fd = event_producer(map, 0);

  long pgsz = sysconf(_SC_PAGESIZE);
  uint64_t *cons_pos = mmap(NULL, (size_t)pgsz, PROT_READ | PROT_WRITE, MAP_SHARED, map, 0);
  CHECK(cons_pos != MAP_FAILED, "mmap consumer page");
  uint8_t *prod_page = mmap(NULL, (size_t)pgsz + 2 * RING_SIZE, PROT_READ, MAP_SHARED, map, pgsz);
  CHECK(prod_page != MAP_FAILED, "mmap producer page and data");
  const uint64_t *prod_pos = (const uint64_t *)prod_page;
  const uint8_t *data = prod_page + pgsz;
  const uint64_t mask = RING_SIZE - 1;
  static uint8_t packet[64];

  for (int run = 0; run < RUNS; run++) {
    uint32_t retval = 0;
    CHECK(test_run(prog_fd, packet, sizeof packet, FILL_REPEAT, &retval) == 0 && retval == 2, "ring fill");
    long count = 0;
    uint64_t sum = 0;
    uint64_t t0 = now_ns();
    while (count < RECORDS) {
      uint64_t cons = *cons_pos;
      uint64_t prod = __atomic_load_n(prod_pos, __ATOMIC_ACQUIRE);
      if (cons == prod) break; /* everything was produced before the clock started */
      while (cons < prod) {
        const uint8_t *hdr = data + (cons & mask);
        uint32_t len = __atomic_load_n((const uint32_t *)hdr, __ATOMIC_ACQUIRE);
        if (len & BPF_RINGBUF_BUSY_BIT) break;
        uint32_t rec = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
        if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
          sum += *(const uint64_t *)(hdr + BPF_RINGBUF_HDR_SZ);
          count++;
        }
        cons += (rec + BPF_RINGBUF_HDR_SZ + 7) & ~7ull;
      }
      __atomic_store_n(cons_pos, cons, __ATOMIC_RELEASE);
    }
    uint64_t t1 = now_ns();
    CHECK(count == RECORDS && sum == (uint64_t)FILL_REPEAT * 2016, "ring consumed %ld records, sum %llu", count,
          (unsigned long long)sum);
    if (run >= WARMUP_RUNS) r[run - WARMUP_RUNS] = ops_per_s(t0, t1, RECORDS);
  }
  emit("W5.ringbuf.consume", "ops/s", RECORDS, r, TIMED_RUNS);
  munmap(prod_page, (size_t)pgsz + 2 * RING_SIZE);
  munmap(cons_pos, (size_t)pgsz);
  close(prog_fd);
  close(map);
}

#define PASSES 64

static void w6(void) {
  double wr[TIMED_RUNS], rd[TIMED_RUNS];
  int fd = map_create(BPF_MAP_TYPE_ARRAY, 4, 8, N_KEYS, BPF_F_MMAPABLE);
  CHECK(fd >= 0, "mmapable array create");
  volatile uint64_t *p = mmap(NULL, N_KEYS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK(p != MAP_FAILED, "mmap array");
  uint64_t expect = 0;
  for (uint64_t i = 0; i < N_KEYS; i++) expect += i + PASSES - 1;
  expect *= PASSES;
  for (int run = 0; run < RUNS; run++) {
    int t = run - WARMUP_RUNS;
    uint64_t t0 = now_ns();
    for (uint32_t pass = 0; pass < PASSES; pass++)
      for (uint32_t i = 0; i < N_KEYS; i++) p[i] = i + pass;
    uint64_t t1 = now_ns();
    if (t >= 0) wr[t] = ops_per_s(t0, t1, (long)PASSES * N_KEYS);
    uint64_t sum = 0;
    t0 = now_ns();
    for (uint32_t pass = 0; pass < PASSES; pass++)
      for (uint32_t i = 0; i < N_KEYS; i++) sum += p[i];
    t1 = now_ns();
    CHECK(sum == expect, "mmap read sum %llu", (unsigned long long)sum);
    if (t >= 0) rd[t] = ops_per_s(t0, t1, (long)PASSES * N_KEYS);
    uint32_t key = 12345;
    uint64_t v = 0;
    CHECK(elem(BPF_MAP_LOOKUP_ELEM, fd, &key, &v, 0) == 0 && v == 12345 + PASSES - 1, "element 12345 is %llu",
          (unsigned long long)v);
  }
  emit("W6.mmap_array.write", "ops/s", (long)PASSES * N_KEYS, wr, TIMED_RUNS);
  emit("W6.mmap_array.read", "ops/s", (long)PASSES * N_KEYS, rd, TIMED_RUNS);
  munmap((void *)p, N_KEYS * 8);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: workloads W0|W1|W2|W3|W4|W5|W6\n");
    return 1;
  }
  const char *w = argv[1];
  if (!strcmp(w, "W0")) w0();
  else if (!strcmp(w, "W1")) w12(1);
  else if (!strcmp(w, "W2")) w12(0);
  else if (!strcmp(w, "W3")) w3();
  else if (!strcmp(w, "W4")) w4();
  else if (!strcmp(w, "W5")) w5();
  else if (!strcmp(w, "W6")) w6();
  else {
    fprintf(stderr, "unknown workload %s\n", w);
    return 1;
  }
  return 0;
}
