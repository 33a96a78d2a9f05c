// Shared argument checks and throw helpers for every file of the addon.
//
// The native side takes numbers, Uint8Arrays, strings and arrays of those, nothing else, and
// validates each of them here before anything reaches the kernel. Every helper returns false
// after throwing a named TypeError/RangeError, so callers write
//   SYS_ARG_FD(env, argv[0], "fd", fd);
// and return on failure. Kernel failures go through ThrowSys, which builds the JS `SysError`.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>

namespace ebpf_sys {

// Per-environment data: the JS SysError class registered by index.ts.
struct AddonData {
  napi_ref sysErrorClass = nullptr;
};

// Throws `new SysError(errno, command)` (or a plain Error before index.ts registered the class).
void ThrowSys(napi_env env, int err, const char* command);
// The same error object, not thrown (for callbacks).
napi_value CreateSysError(napi_env env, int err, const char* command);
// Throws a TypeError / RangeError whose message is printf-formatted.
void ThrowType(napi_env env, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void ThrowRange(napi_env env, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// True when `v` is null or undefined.
bool IsNullish(napi_env env, napi_value v);

// A file descriptor: a number that is an integer in [0, INT32_MAX].
bool ArgFd(napi_env env, napi_value v, const char* name, int* out);
// An integer number in [min, max] (both within ±2^53).
bool ArgInt(napi_env env, napi_value v, const char* name, double min, double max, int64_t* out);
// Flags: undefined means 0, otherwise an integer in [0, 2^53).
bool ArgFlags(napi_env env, napi_value v, const char* name, uint64_t* out);
// A Uint8Array (Buffer included); `data` may be null when its length is 0.
bool ArgBytes(napi_env env, napi_value v, const char* name, uint8_t** data, size_t* len);
// A boolean.
bool ArgBool(napi_env env, napi_value v, const char* name, bool* out);
// A string of at most `cap - 1` UTF-8 bytes without NUL, copied NUL-terminated into `buf`.
bool ArgString(napi_env env, napi_value v, const char* name, char* buf, size_t cap);
// A function.
bool ArgFunction(napi_env env, napi_value v, const char* name);

// Fast inline variants for the hot paths (same checks, no call overhead).
inline bool FastFd(napi_env env, napi_value v, const char* name, int* out) {
  double d;
  if (napi_get_value_double(env, v, &d) == napi_ok && d >= 0 && d <= 2147483647.0) {
    int i = static_cast<int>(d);
    if (static_cast<double>(i) == d) {
      *out = i;
      return true;
    }
  }
  return ArgFd(env, v, name, out);  // slow path: builds the error
}

inline bool FastBytes(napi_env env, napi_value v, const char* name, uint8_t** data, size_t* len) {
  napi_typedarray_type type;
  void* p;
  if (napi_get_typedarray_info(env, v, &type, len, &p, nullptr, nullptr) == napi_ok &&
      type == napi_uint8_array) {
    *data = static_cast<uint8_t*>(p);
    return true;
  }
  return ArgBytes(env, v, name, data, len);
}

// Registers a raw callback as a named property of `exports`.
void Export(napi_env env, napi_value exports, const char* name, napi_callback cb);
void ExportInt(napi_env env, napi_value exports, const char* name, int64_t value);

}  // namespace ebpf_sys

// Prefixed shortcuts: evaluate a check, return nullptr (a pending exception) when it fails.
#define SYS_ARGS(env, info, n)                                              \
  size_t argc = (n);                                                        \
  napi_value argv[(n) > 0 ? (n) : 1];                                       \
  if (napi_get_cb_info((env), (info), &argc, argv, nullptr, nullptr) != napi_ok) return nullptr; \
  for (size_t i_ = argc; i_ < (n); i_++) napi_get_undefined((env), &argv[i_])

#define SYS_CHECK(expr) \
  do {                  \
    if (!(expr)) return nullptr; \
  } while (0)

#define SYS_ARG_FD(env, v, name, out) SYS_CHECK(::ebpf_sys::ArgFd((env), (v), (name), &(out)))
#define SYS_ARG_BYTES(env, v, name, data, len) \
  SYS_CHECK(::ebpf_sys::ArgBytes((env), (v), (name), &(data), &(len)))
#define SYS_THROW_ERRNO(env, err, command)         \
  do {                                             \
    ::ebpf_sys::ThrowSys((env), (err), (command)); \
    return nullptr;                                \
  } while (0)
