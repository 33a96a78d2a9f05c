// perf_event_open(2) and the perf ioctls BPF needs (enable, disable, reset, set-bpf, pause).
#include <errno.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <new>

#include "bpf.h"
#include "errors.h"

namespace ebpf_sys {
namespace {

constexpr unsigned kAttrVer0 = 64;   // PERF_ATTR_SIZE_VER0: what size 0 means
constexpr unsigned kAttrMax = 512;   // larger attrs are refused
constexpr unsigned kFlagsOffset = 40;
constexpr uint64_t kSigtrap = 1ull << 37;  // perf_event_attr.sigtrap: would SIGTRAP the process
constexpr unsigned kConfig1Offset = 56;    // kprobe_func / uprobe_path / bp_addr / config1

constexpr size_t kMaxNamePmus = 8;

// Whether `type` is one of the PMU types in `types` (a Uint32Array, or null for none).
bool TakesName(napi_env env, napi_value types, uint32_t type, bool* out) {
  *out = false;
  if (IsNullish(env, types)) return true;
  napi_typedarray_type kind;
  void* data = nullptr;
  size_t n = 0;
  if (napi_get_typedarray_info(env, types, &kind, &n, &data, nullptr, nullptr) != napi_ok ||
      kind != napi_uint32_array || n > kMaxNamePmus) {
    ThrowType(env, "namePmuTypes must be a Uint32Array of at most %zu PMU types, or null", kMaxNamePmus);
    return false;
  }
  for (size_t k = 0; k < n; k++) {
    uint32_t t;
    memcpy(&t, static_cast<uint8_t*>(data) + k * 4, 4);
    if (t == type) *out = true;
  }
  return true;
}

// perfEventOpen(attr, pid, cpu, groupFd, flags, name?, namePmuTypes?): fd. The PMUs whose types
// are in namePmuTypes (kprobe, uprobe: their numbers are read in JS, from sysfs) take a
// NUL-terminated function name or path through a pointer in config1: for them native writes the
// address of a private copy of `name` there, or 0 without a name, so JS never passes an address.
// A name for any other PMU is refused; their config1 is passed as given.
napi_value PerfEventOpen(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 7);
  uint8_t* js;
  size_t jsLen;
  int64_t pid, cpu, groupFd, flags;
  SYS_ARG_BYTES(env, argv[0], "attr", js, jsLen);
  SYS_CHECK(ArgInt(env, argv[1], "pid", -1, 2147483647.0, &pid));
  SYS_CHECK(ArgInt(env, argv[2], "cpu", -1, 2147483647.0, &cpu));
  SYS_CHECK(ArgInt(env, argv[3], "groupFd", -1, 2147483647.0, &groupFd));
  if (IsNullish(env, argv[4])) {
    flags = 0;
  } else {
    SYS_CHECK(ArgInt(env, argv[4], "flags", 0, 15, &flags));  // PERF_FLAG_FD_NO_GROUP..FD_CLOEXEC
  }
  if (jsLen < kAttrVer0 || jsLen > kAttrMax) {
    ThrowRange(env, "attr must be a Uint8Array of %u to %u bytes (struct perf_event_attr), got %zu",
               kAttrVer0, kAttrMax, jsLen);
    return nullptr;
  }
  alignas(8) uint8_t attr[kAttrMax] = {};
  memcpy(attr, js, jsLen);
  uint32_t size;
  memcpy(&size, attr + 4, 4);
  if (size == 0) size = kAttrVer0;
  if (size < kAttrVer0 || size > jsLen) {
    ThrowRange(env, "attr.size (%u) must be between %u and the buffer's length (%zu)", size, kAttrVer0,
               jsLen);
    return nullptr;
  }
  uint64_t bits;
  memcpy(&bits, attr + kFlagsOffset, 8);
  if (bits & kSigtrap) {
    ThrowRange(env, "attr.sigtrap is not allowed: the kernel would send SIGTRAP to this process");
    return nullptr;
  }
  uint32_t type;
  memcpy(&type, attr, 4);
  bool takesName;
  if (!TakesName(env, argv[6], type, &takesName)) return nullptr;
  std::unique_ptr<uint8_t[]> nameCopy;
  uint64_t nameAddr = 0;
  if (!IsNullish(env, argv[5])) {
    if (!takesName) {
      ThrowType(env, "name is only taken by the PMUs of namePmuTypes (kprobe, uprobe); attr.type %u is none",
                type);
      return nullptr;
    }
    uint8_t* name;
    size_t nameLen;
    SYS_ARG_BYTES(env, argv[5], "name", name, nameLen);
    if (nameLen == 0 || memchr(name, 0, nameLen) == nullptr) {
      ThrowRange(env, "name must be a NUL-terminated string");
      return nullptr;
    }
    // The kernel reads the string up to its own limit: hand it a private copy up to the NUL.
    const void* nul = memchr(name, 0, nameLen);
    size_t n = nul != nullptr ? static_cast<const uint8_t*>(nul) - name + 1 : nameLen;
    nameCopy.reset(new (std::nothrow) uint8_t[n]);
    if (nameCopy == nullptr) {
      ThrowRange(env, "name: could not copy %zu bytes", n);
      return nullptr;
    }
    memcpy(nameCopy.get(), name, n);
    nameCopy[n - 1] = 0;  // terminated even if the NUL moved meanwhile
    nameAddr = reinterpret_cast<uintptr_t>(nameCopy.get());
  }
  if (takesName) memcpy(attr + kConfig1Offset, &nameAddr, 8);
  long fd = syscall(__NR_perf_event_open, attr, static_cast<pid_t>(pid), static_cast<int>(cpu),
                    static_cast<int>(groupFd), static_cast<unsigned long>(flags) | PERF_FLAG_FD_CLOEXEC);
  int saved = errno;
  // The kernel writes its own attr size back on E2BIG.
  memcpy(js + 4, attr + 4, 4);
  if (fd < 0) SYS_THROW_ERRNO(env, saved, "perf_event_open");
  CacheErase(static_cast<int>(fd));
  napi_value r;
  napi_create_int64(env, fd, &r);
  return r;
}

const char* IoctlName(unsigned long request) {
  switch (request) {
    case PERF_EVENT_IOC_ENABLE: return "ioctl(PERF_EVENT_IOC_ENABLE)";
    case PERF_EVENT_IOC_DISABLE: return "ioctl(PERF_EVENT_IOC_DISABLE)";
    case PERF_EVENT_IOC_REFRESH: return "ioctl(PERF_EVENT_IOC_REFRESH)";
    case PERF_EVENT_IOC_RESET: return "ioctl(PERF_EVENT_IOC_RESET)";
    case PERF_EVENT_IOC_SET_BPF: return "ioctl(PERF_EVENT_IOC_SET_BPF)";
    case PERF_EVENT_IOC_PAUSE_OUTPUT: return "ioctl(PERF_EVENT_IOC_PAUSE_OUTPUT)";
    default: return nullptr;
  }
}

// ioctl(fd, request, arg): only the integer-argument perf ioctls above, only on perf event fds.
napi_value Ioctl(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 3);
  int fd;
  int64_t request, arg = 0;
  SYS_ARG_FD(env, argv[0], "fd", fd);
  SYS_CHECK(ArgInt(env, argv[1], "request", 0, 4294967295.0, &request));
  const char* name = IoctlName(static_cast<unsigned long>(request));
  if (name == nullptr) {
    ThrowRange(env,
               "request 0x%llx is not one of the perf ioctls @ebpf/sys allows (ENABLE, DISABLE, "
               "REFRESH, RESET, SET_BPF, PAUSE_OUTPUT)",
               static_cast<unsigned long long>(request));
    return nullptr;
  }
  if (!IsNullish(env, argv[2])) SYS_CHECK(ArgInt(env, argv[2], "arg", 0, 2147483647.0, &arg));
  FdKind kind = ClassifyFd(fd);
  if (kind == FdKind::kClosed) SYS_THROW_ERRNO(env, EBADF, name);
  if (kind != FdKind::kPerfEvent) {
    ThrowType(env, "fd %d is not a perf event fd", fd);
    return nullptr;
  }
  int r = ioctl(fd, static_cast<unsigned long>(request), static_cast<unsigned long>(arg));
  if (r < 0) SYS_THROW_ERRNO(env, errno, name);
  napi_value result;
  napi_create_int32(env, r, &result);
  return result;
}

}  // namespace

void InitPerf(napi_env env, napi_value exports) {
  Export(env, exports, "perfEventOpen", PerfEventOpen);
  Export(env, exports, "ioctl", Ioctl);
  ExportInt(env, exports, "PERF_EVENT_IOC_ENABLE", PERF_EVENT_IOC_ENABLE);
  ExportInt(env, exports, "PERF_EVENT_IOC_DISABLE", PERF_EVENT_IOC_DISABLE);
  ExportInt(env, exports, "PERF_EVENT_IOC_REFRESH", PERF_EVENT_IOC_REFRESH);
  ExportInt(env, exports, "PERF_EVENT_IOC_RESET", PERF_EVENT_IOC_RESET);
  ExportInt(env, exports, "PERF_EVENT_IOC_SET_BPF", PERF_EVENT_IOC_SET_BPF);
  ExportInt(env, exports, "PERF_EVENT_IOC_PAUSE_OUTPUT", PERF_EVENT_IOC_PAUSE_OUTPUT);
}

}  // namespace ebpf_sys
