// RLIMIT_MEMLOCK: BPF memory was charged against it before Linux 5.11 (memcg accounting since).
#include <errno.h>
#include <sys/resource.h>

#include <cmath>

#include "bpf.h"
#include "errors.h"

namespace ebpf_sys {
namespace {

napi_value LimitToJs(napi_env env, rlim_t v) {
  napi_value r;
  napi_create_double(env, v == RLIM_INFINITY ? INFINITY : static_cast<double>(v), &r);
  return r;
}

// getMemlockLimit(): { soft, hard } in bytes, Infinity for unlimited.
napi_value GetMemlockLimit(napi_env env, napi_callback_info) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0) SYS_THROW_ERRNO(env, errno, "getrlimit(RLIMIT_MEMLOCK)");
  napi_value o;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "soft", LimitToJs(env, rl.rlim_cur));
  napi_set_named_property(env, o, "hard", LimitToJs(env, rl.rlim_max));
  return o;
}

// setMemlockLimit(bytes): sets the soft limit, raising the hard one only when it is lower.
napi_value SetMemlockLimit(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 1);
  double d;
  if (napi_get_value_double(env, argv[0], &d) != napi_ok || std::isnan(d) || d < 0 ||
      (std::isfinite(d) && std::floor(d) != d)) {
    ThrowType(env, "bytes must be a non-negative integer or Infinity");
    return nullptr;
  }
  rlim_t want = std::isinf(d) || d >= 18446744073709551615.0 ? RLIM_INFINITY : static_cast<rlim_t>(d);
  struct rlimit rl;
  if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0) SYS_THROW_ERRNO(env, errno, "getrlimit(RLIMIT_MEMLOCK)");
  rl.rlim_cur = want;
  if (rl.rlim_max != RLIM_INFINITY && (want == RLIM_INFINITY || want > rl.rlim_max)) rl.rlim_max = want;
  if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0) SYS_THROW_ERRNO(env, errno, "setrlimit(RLIMIT_MEMLOCK)");
  return nullptr;
}

}  // namespace

void InitLimits(napi_env env, napi_value exports) {
  Export(env, exports, "getMemlockLimit", GetMemlockLimit);
  Export(env, exports, "setMemlockLimit", SetMemlockLimit);
}

}  // namespace ebpf_sys
