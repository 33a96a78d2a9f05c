// progTestRun: BPF_PROG_TEST_RUN without the generic table, for callers that run a program many
// times (core's prog.run, benchmarks).
//
// The checked bpf() pays for its generality on every call: copying the attr in and out, matching
// [offset, buffer] pairs against the command's table, re-reading the length fields it must trust.
// Here the arguments are the buffers themselves and every length field is derived from them:
// data_size_in = dataIn.length, data_size_out = dataOut.length, ctx_size_in/out likewise. No
// length comes from JS apart from the buffer it describes, so nothing JS passes can make the
// kernel read or write outside a JS buffer. The attr lives on the stack; the kernel's outputs go
// into a caller-owned Uint32Array; no allocation. Same C Node-API style as the map hot paths.
#include <errno.h>

#include <cstddef>
#include <cstring>

#include "bpf.h"
#include "errors.h"

namespace ebpf_sys {
namespace {

constexpr int kProgTestRun = 10;
constexpr const char* kWhere = "BPF_PROG_TEST_RUN";

// union bpf_attr's `test` member (LP64; layout.test.ts checks it against @ebpf/uapi's TestRunAttr).
struct TestRunAttr {
  uint32_t prog_fd;        // 0
  uint32_t retval;         // 4   out
  uint32_t data_size_in;   // 8
  uint32_t data_size_out;  // 12  in: room in data_out; out: bytes the program produced
  uint64_t data_in;        // 16
  uint64_t data_out;       // 24
  uint32_t repeat;         // 32
  uint32_t duration;       // 36  out
  uint32_t ctx_size_in;    // 40
  uint32_t ctx_size_out;   // 44  in: room in ctx_out; out: bytes of context produced
  uint64_t ctx_in;         // 48
  uint64_t ctx_out;        // 56
  uint32_t flags;          // 64
  uint32_t cpu;            // 68
  uint32_t batch_size;     // 72
  uint32_t pad;            // 76
};
static_assert(sizeof(TestRunAttr) == 80, "bpf_attr test member is 80 bytes");
static_assert(offsetof(TestRunAttr, data_out) == 24 && offsetof(TestRunAttr, ctx_out) == 56 &&
                  offsetof(TestRunAttr, batch_size) == 72,
              "bpf_attr test member offsets");

// A buffer argument: a Uint8Array, or null/undefined. Empty (or detached) passes as no buffer, so
// a pointer always comes with a non-zero size: the kernel never sees data_out with
// data_size_out 0, which it would not bound.
inline bool TestRunBuffer(napi_env env, napi_value v, const char* name, uint64_t* addr,
                          uint32_t* size) {
  napi_typedarray_type type;
  void* p = nullptr;
  size_t len = 0;
  if (napi_get_typedarray_info(env, v, &type, &len, &p, nullptr, nullptr) == napi_ok &&
      type == napi_uint8_array) {
    if (len > 0xffffffffu) {
      ThrowRange(env, "%s must be at most 4 GiB - 1 bytes (a u32 size), got %zu bytes", name, len);
      return false;
    }
    bool none = len == 0 || p == nullptr;
    *addr = none ? 0 : reinterpret_cast<uintptr_t>(p);
    *size = none ? 0 : static_cast<uint32_t>(len);
    return true;
  }
  if (IsNullish(env, v)) {
    *addr = 0;
    *size = 0;
    return true;
  }
  uint8_t* unused;
  ArgBytes(env, v, name, &unused, &len);  // throws the named TypeError
  return false;
}

// A u32 argument (repeat, flags, cpu, batchSize); undefined means 0.
inline bool TestRunU32(napi_env env, napi_value v, const char* name, uint32_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) == napi_ok && d >= 0 && d <= 4294967295.0) {
    uint32_t u = static_cast<uint32_t>(d);
    if (static_cast<double>(u) == d) {
      *out = u;
      return true;
    }
  }
  napi_valuetype t;
  if (napi_typeof(env, v, &t) == napi_ok && t == napi_undefined) {
    *out = 0;
    return true;
  }
  int64_t i;
  if (!ArgInt(env, v, name, 0, 4294967295.0, &i)) return false;
  *out = static_cast<uint32_t>(i);
  return true;
}

// The shared tail: checks `result` (a Uint32Array of at least 4) before the call, makes it, and
// writes [retval, data_size_out, ctx_size_out, duration] there, also when the kernel fails the
// call (ENOSPC reports the sizes the program wanted).
napi_value RunAndReport(napi_env env, napi_value resultArg, TestRunAttr* a) {
  // Any ArrayBufferView of 16 bytes or more is safe to write; index.ts holds callers to a
  // Uint32Array. (napi_get_typedarray_info would tell the type by testing Int8Array, Uint8Array,
  // ... in turn, seven V8 calls for a Uint32Array: a fifth of this function's time.)
  void* out = nullptr;
  size_t outBytes = 0;
  if (napi_get_buffer_info(env, resultArg, &out, &outBytes) != napi_ok || outBytes < 16 ||
      out == nullptr) {
    ThrowType(env, "result must be a Uint32Array of at least 4 elements (retval, data_size_out, "
                   "ctx_size_out, duration)");
    return nullptr;
  }
  long r = SysBpf(kProgTestRun, a, sizeof *a);
  int saved = errno;
  // The kernel writes these back even on ENOSPC; on other failures they are what was passed
  // (retval and duration 0, the sizes the buffers' lengths).
  uint32_t results[4] = {a->retval, a->data_size_out, a->ctx_size_out, a->duration};
  memcpy(out, results, sizeof results);
  if (r < 0) SYS_THROW_ERRNO(env, saved, kWhere);
  return nullptr;
}

// The arguments both entry points start with: progFd, dataIn, dataOut.
inline bool ParseFdAndData(napi_env env, const napi_value* argv, TestRunAttr* a) {
  int fd;
  if (!FastFd(env, argv[0], "progFd", &fd)) return false;
  a->prog_fd = static_cast<uint32_t>(fd);
  return TestRunBuffer(env, argv[1], "dataIn", &a->data_in, &a->data_size_in) &&
         TestRunBuffer(env, argv[2], "dataOut", &a->data_out, &a->data_size_out);
}

// progTestRun(progFd, dataIn, dataOut, ctxIn, ctxOut, repeat, flags, cpu, batchSize, result).
napi_value ProgTestRun(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 10);
  TestRunAttr a{};
  SYS_CHECK(ParseFdAndData(env, argv, &a));
  SYS_CHECK(TestRunBuffer(env, argv[3], "ctxIn", &a.ctx_in, &a.ctx_size_in));
  SYS_CHECK(TestRunBuffer(env, argv[4], "ctxOut", &a.ctx_out, &a.ctx_size_out));
  SYS_CHECK(TestRunU32(env, argv[5], "repeat", &a.repeat));
  SYS_CHECK(TestRunU32(env, argv[6], "flags", &a.flags));
  SYS_CHECK(TestRunU32(env, argv[7], "cpu", &a.cpu));
  SYS_CHECK(TestRunU32(env, argv[8], "batchSize", &a.batch_size));
  return RunAndReport(env, argv[9], &a);
}

// progTestRunData(progFd, dataIn, dataOut, repeat, result): the same call without context, flags,
// cpu or batch size (all 0). Each argument crossing Node-API costs about 12 ns here, so index.ts
// takes this path when those are absent: 6 calls into Node-API instead of 14.
napi_value ProgTestRunData(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 5);
  TestRunAttr a{};
  SYS_CHECK(ParseFdAndData(env, argv, &a));
  SYS_CHECK(TestRunU32(env, argv[3], "repeat", &a.repeat));
  return RunAndReport(env, argv[4], &a);
}

// testRunFields(): [{offset, name}] of every TestRunAttr field this file fills or reads, so
// layout.test.ts can hold the struct above to @ebpf/uapi's generated TestRunAttr.
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
  Export(env, exports, "progTestRun", ProgTestRun);
  Export(env, exports, "progTestRunData", ProgTestRunData);
  Export(env, exports, "testRunFields", TestRunFields);
}

}  // namespace ebpf_sys
