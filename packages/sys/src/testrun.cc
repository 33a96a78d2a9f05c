// testRunner: BPF_PROG_TEST_RUN prepared once, run many times (core's prog.run, benchmarks).
//
// A bound call (bound.h): a call with a packet, an output buffer and a result array paid ~100 ns
// before the syscall, so a runner owns one ArrayBuffer holding a header of u32 slots (input sizes,
// repeat, flags, cpu, batch size; outputs retval, sizes, duration) and the four regions (data
// in/out, context in/out). run() takes no argument: it reads the header, checks every size
// against the room native reserved for that region, and builds the attr on the stack.
#include <errno.h>

#include <cstddef>

#include "bound.h"
#include "bpf.h"
#include "errors.h"
#include "generated/bpf-rules.generated.h"

namespace ebpf_sys {
namespace {

const char* const kWhere = kCmdNames[kCmdProgTestRun];

// TestRunAttr (union bpf_attr's `test` member) comes from the generated header.

// The runner's memory: a header of u32 slots, then the four regions, each 8-byte aligned. JS
// writes the inputs (sizes, repeat, flags, cpu, batch size) into the header and the packet and
// context into their regions; native reads them per call and writes the outputs back.
enum Slot : uint32_t {
  kRetval,       // out
  kDataSizeOut,  // out: bytes the program produced (may exceed the room on ENOSPC)
  kCtxSizeOut,   // out
  kDuration,     // out
  kDataSizeIn,   // in: bytes of dataIn the kernel reads
  kDataOutRoom,  // in: bytes of dataOut the kernel may write
  kCtxSizeIn,
  kCtxOutRoom,
  kRepeat,
  kFlags,
  kCpu,
  kBatchSize,
  kSlots,
};
constexpr size_t kHeaderBytes = kSlots * sizeof(uint32_t);
enum Region : uint32_t { kDataIn, kDataOut, kCtxIn, kCtxOut, kRegions };
const char* const kRegionName[kRegions] = {"data in", "data out", "context in", "context out"};
const Slot kRegionSize[kRegions] = {kDataSizeIn, kDataOutRoom, kCtxSizeIn, kCtxOutRoom};

// What run() needs besides the memory: the program and where each region sits. Nothing here is
// reachable from JS, so no JS write can point the kernel elsewhere.
struct Runner {
  BoundMemory memory;
  int prog_fd = -1;
  uint32_t offset[kRegions] = {};
  uint32_t capacity[kRegions] = {};
};

// The run() function was collected: nothing can reach the runner any more.
void FreeRunner(napi_env env, void* data, void*) {
  auto* r = static_cast<Runner*>(data);
  ReleaseBoundMemory(env, &r->memory);
  delete r;
}

// run(): one BPF_PROG_TEST_RUN from the runner's memory; returns retval, the other outputs in the
// header. No argument crosses Node-API: that is the whole point (each one costs ~12 ns here,
// about what the rest of the call costs).
napi_value Run(napi_env env, napi_callback_info info) {
  auto* r = static_cast<Runner*>(BoundState(env, info));
  uint8_t* bytes = BoundBase(env, r->memory, "test runner");
  if (bytes == nullptr) return nullptr;
  auto* header = reinterpret_cast<uint32_t*>(bytes);
  uint32_t size[kRegions];
  for (uint32_t i = 0; i < kRegions; i++) {
    size[i] = header[kRegionSize[i]];  // read once: what is checked is what the kernel gets
    if (size[i] > r->capacity[i]) {
      ThrowRange(env, "%s size %u exceeds the runner's %u bytes", kRegionName[i], size[i],
                 r->capacity[i]);
      return nullptr;
    }
  }
  // A region of size 0 passes as no buffer: the kernel never sees data_out with
  // data_size_out 0, which it would not bound.
  auto at = [&](Region i) -> uint64_t {
    return size[i] == 0 ? 0 : reinterpret_cast<uintptr_t>(bytes + r->offset[i]);
  };
  TestRunAttr a{};
  a.prog_fd = static_cast<uint32_t>(r->prog_fd);
  a.data_in = at(kDataIn);
  a.data_size_in = size[kDataIn];
  a.data_out = at(kDataOut);
  a.data_size_out = size[kDataOut];
  a.ctx_in = at(kCtxIn);
  a.ctx_size_in = size[kCtxIn];
  a.ctx_out = at(kCtxOut);
  a.ctx_size_out = size[kCtxOut];
  a.repeat = header[kRepeat];
  a.flags = header[kFlags];
  a.cpu = header[kCpu];
  a.batch_size = header[kBatchSize];
  long rc = SysBpf(kCmdProgTestRun, &a, sizeof a);
  int saved = errno;
  // The kernel writes these back even on ENOSPC; on other failures they are what was passed.
  header[kRetval] = a.retval;
  header[kDataSizeOut] = a.data_size_out;
  header[kCtxSizeOut] = a.ctx_size_out;
  header[kDuration] = a.duration;
  if (rc < 0) SYS_THROW_ERRNO(env, saved, kWhere);
  napi_value retval;
  napi_create_uint32(env, a.retval, &retval);
  return retval;
}

// testRunner(progFd, dataIn, dataOut, ctxIn, ctxOut): [run, memory] for a program, with room
// for that many bytes in each region (bound.h: the memory lives as long as run() does).
napi_value TestRunner(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 5);
  auto* r = new Runner();
  int fd;
  bool ok = ArgFd(env, argv[0], "progFd", &fd);
  size_t total = kHeaderBytes;
  for (uint32_t i = 0; ok && i < kRegions; i++) {
    int64_t n;
    ok = ArgInt(env, argv[1 + i], kRegionName[i], 0, 1 << 30, &n);
    if (!ok) break;
    r->offset[i] = static_cast<uint32_t>(total);
    r->capacity[i] = static_cast<uint32_t>(n);
    total = (total + n + 7) & ~size_t{7};
  }
  napi_value ab, run, pair;
  if (!ok || !CreateBoundMemory(env, total, &r->memory, &ab)) {
    FreeRunner(env, r, nullptr);  // a pending exception says why
    return nullptr;
  }
  r->prog_fd = fd;
  if (!CreateBoundFunction(env, "run", Run, r, FreeRunner, &run)) {
    FreeRunner(env, r, nullptr);
    return nullptr;
  }
  napi_create_array_with_length(env, 2, &pair);
  napi_set_element(env, pair, 0, run);
  napi_set_element(env, pair, 1, ab);
  return pair;
}

// testRunLayout(): [header bytes, slot count] so index.ts names the same slots.
napi_value TestRunLayout(napi_env env, napi_callback_info) {
  napi_value arr, v;
  napi_create_array_with_length(env, 2, &arr);
  napi_create_uint32(env, kHeaderBytes, &v);
  napi_set_element(env, arr, 0, v);
  napi_create_uint32(env, kSlots, &v);
  napi_set_element(env, arr, 1, v);
  return arr;
}

// testRunFields(): [{offset, name}] of every TestRunAttr field this file fills or reads, so
// layout.test.ts can hold the compiled struct to @ebpf/uapi's generated TestRunAttr.
napi_value TestRunFields(napi_env env, napi_callback_info) {
  struct Named {
    size_t offset;
    const char* name;
  };
#define F(member) Named{offsetof(TestRunAttr, member), #member}
  const Named fields[] = {F(prog_fd),     F(retval),      F(data_size_in), F(data_size_out),
                          F(data_in),     F(data_out),    F(repeat),       F(duration),
                          F(ctx_size_in), F(ctx_size_out), F(ctx_in),      F(ctx_out),
                          F(flags),       F(cpu),         F(batch_size)};
#undef F
  napi_value arr;
  napi_create_array_with_length(env, sizeof fields / sizeof fields[0], &arr);
  for (uint32_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    napi_value o, off, name;
    napi_create_object(env, &o);
    napi_create_uint32(env, static_cast<uint32_t>(fields[i].offset), &off);
    napi_create_string_utf8(env, fields[i].name, NAPI_AUTO_LENGTH, &name);
    napi_set_named_property(env, o, "offset", off);
    napi_set_named_property(env, o, "name", name);
    napi_set_element(env, arr, i, o);
  }
  return arr;
}

}  // namespace

void InitTestRun(napi_env env, napi_value exports) {
  Export(env, exports, "testRunner", TestRunner);
  Export(env, exports, "testRunLayout", TestRunLayout);
  Export(env, exports, "testRunFields", TestRunFields);
}

}  // namespace ebpf_sys
