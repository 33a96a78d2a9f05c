// mmap of BPF map and perf event fds as external ArrayBuffers; munmap detaches them.
//
// Only fds whose kernel object bounds the mapping itself are accepted (BPF maps, perf events):
// their mmap handlers refuse any range they cannot back, so no access through the buffer can hit
// a hole (SIGBUS), as a truncated file could.
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mutex>
#include <unordered_map>

#include "bpf.h"
#include "errors.h"

namespace ebpf_sys {
namespace {

struct Mapping {
  void* addr;
  size_t length;
  bool unmapped;  // guarded by registryLock
};

std::mutex registryLock;
std::unordered_map<void*, Mapping*>& Registry() {
  static auto* registry = new std::unordered_map<void*, Mapping*>();
  return *registry;
}

// Runs when the ArrayBuffer is collected (or at environment teardown).
void FinalizeMapping(napi_env, void*, void* hint) {
  auto* m = static_cast<Mapping*>(hint);
  {
    std::lock_guard<std::mutex> lock(registryLock);
    if (!m->unmapped) {
      munmap(m->addr, m->length);
      m->unmapped = true;
      auto it = Registry().find(m->addr);
      if (it != Registry().end() && it->second == m) Registry().erase(it);
    }
  }
  delete m;
}

// mmap(fd, length, writable, offset = 0): ArrayBuffer over a MAP_SHARED mapping.
napi_value Mmap(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 4);
  int fd;
  int64_t length, offset = 0;
  bool writable;
  SYS_ARG_FD(env, argv[0], "fd", fd);
  SYS_CHECK(ArgInt(env, argv[1], "length", 1, 1099511627776.0, &length));
  SYS_CHECK(ArgBool(env, argv[2], "writable", &writable));
  long page = sysconf(_SC_PAGESIZE);
  if (!IsNullish(env, argv[3])) {
    SYS_CHECK(ArgInt(env, argv[3], "offset", 0, 9007199254740991.0, &offset));
    if (offset % page != 0) {
      ThrowRange(env, "offset must be a multiple of the page size (%ld), got %lld", page,
                 static_cast<long long>(offset));
      return nullptr;
    }
  }
  FdKind kind = ClassifyFd(fd);
  if (kind == FdKind::kClosed) SYS_THROW_ERRNO(env, EBADF, "mmap");
  if (kind != FdKind::kMap && kind != FdKind::kPerfEvent) {
    ThrowType(env, "fd %d is neither a BPF map nor a perf event: mmap() maps only those", fd);
    return nullptr;
  }
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void* p = mmap(nullptr, static_cast<size_t>(length), prot, MAP_SHARED, fd, static_cast<off_t>(offset));
  if (p == MAP_FAILED) SYS_THROW_ERRNO(env, errno, "mmap");
  auto* m = new Mapping{p, static_cast<size_t>(length), false};
  {
    std::lock_guard<std::mutex> lock(registryLock);
    Registry()[p] = m;
  }
  napi_value ab;
  if (napi_create_external_arraybuffer(env, p, static_cast<size_t>(length), FinalizeMapping, m, &ab) !=
      napi_ok) {
    {
      std::lock_guard<std::mutex> lock(registryLock);
      Registry().erase(p);
    }
    munmap(p, static_cast<size_t>(length));
    delete m;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, nullptr, "mmap: this runtime does not allow external ArrayBuffers");
    return nullptr;
  }
  return ab;
}

// munmap(buffer): unmaps a buffer made by mmap() and detaches it (every view becomes empty).
napi_value Munmap(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 1);
  bool isAb = false;
  if (napi_is_arraybuffer(env, argv[0], &isAb) != napi_ok || !isAb) {
    ThrowType(env, "buffer must be an ArrayBuffer returned by mmap()");
    return nullptr;
  }
  void* data = nullptr;
  size_t len = 0;
  napi_get_arraybuffer_info(env, argv[0], &data, &len);
  Mapping* m = nullptr;
  {
    std::lock_guard<std::mutex> lock(registryLock);
    auto it = Registry().find(data);
    if (data != nullptr && it != Registry().end() && it->second->length == len) m = it->second;
  }
  if (m == nullptr) {
    ThrowType(env, "buffer is not a live mapping made by mmap() (already unmapped?)");
    return nullptr;
  }
  // Detach first: after this no JS view can reach the memory.
  if (napi_detach_arraybuffer(env, argv[0]) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, nullptr, "munmap: could not detach the ArrayBuffer");
    return nullptr;
  }
  // Look the mapping up again: should the runtime have run the finalizer while detaching, it
  // has unmapped and freed it already.
  std::lock_guard<std::mutex> lock(registryLock);
  auto it = Registry().find(data);
  if (it != Registry().end() && it->second == m && !m->unmapped) {
    munmap(m->addr, m->length);
    m->unmapped = true;
    Registry().erase(it);
  }
  return nullptr;
}

napi_value PageSize(napi_env env, napi_callback_info) {
  napi_value r;
  napi_create_int64(env, sysconf(_SC_PAGESIZE), &r);
  return r;
}

}  // namespace

void InitMmap(napi_env env, napi_value exports) {
  Export(env, exports, "mmap", Mmap);
  Export(env, exports, "munmap", Munmap);
  Export(env, exports, "pageSize", PageSize);
}

}  // namespace ebpf_sys
