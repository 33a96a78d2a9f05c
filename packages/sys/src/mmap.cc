// mmap of BPF map and perf event fds as external ArrayBuffers; munmap detaches them.
//
// Only fds whose kernel object bounds the mapping itself are accepted (BPF maps, perf events):
// their mmap handlers refuse any range they cannot back, so no access through the buffer can hit
// a hole (SIGBUS), as a truncated file could. The checked mmap() makes writable mappings only, so
// no JS write can fault; read-only ones come from mmapReadOnlyUnchecked(), named for its hazard.
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

// What a mapping call asks for once its arguments are parsed.
struct MapRequest {
  FdKind kind;
  int fd;
  size_t length;
  off_t offset;
  int prot;
};

// Parses (fd, length, offset) at argv[0], argv[1], argv[offsetArg]; the fd must be a BPF map or a
// perf event.
bool ParseRequest(napi_env env, napi_value* argv, size_t offsetArg, MapRequest* out) {
  int fd;
  int64_t length, offset = 0;
  if (!ArgFd(env, argv[0], "fd", &fd) || !ArgInt(env, argv[1], "length", 1, 1099511627776.0, &length))
    return false;
  long page = sysconf(_SC_PAGESIZE);
  if (!IsNullish(env, argv[offsetArg])) {
    if (!ArgInt(env, argv[offsetArg], "offset", 0, 9007199254740991.0, &offset)) return false;
    if (offset % page != 0) {
      ThrowRange(env, "offset must be a multiple of the page size (%ld), got %lld", page,
                 static_cast<long long>(offset));
      return false;
    }
  }
  FdKind kind = ClassifyFd(fd);
  if (kind == FdKind::kClosed) {
    ThrowSys(env, EBADF, "mmap");
    return false;
  }
  if (kind != FdKind::kMap && kind != FdKind::kPerfEvent) {
    ThrowType(env, "fd %d is neither a BPF map nor a perf event: mmap() maps only those", fd);
    return false;
  }
  *out = {kind, fd, static_cast<size_t>(length), static_cast<off_t>(offset), PROT_READ};
  return true;
}

// An arena created with BPF_F_SEGV_ON_FAULT raises SIGSEGV on any access to a page the program
// has not allocated: such a mapping is not safe to hand to JS.
bool RefuseSegvArena(napi_env env, const MapRequest& r) {
  if (r.kind != FdKind::kMap) return true;
  int fd = r.fd;
  MapInfoHead head{};
  int err = QueryMapInfo(fd, &head);
  if (err != 0) {
    ThrowSys(env, err, "mmap");
    return false;
  }
  constexpr uint32_t kArena = 33, kSegvOnFault = 1u << 17;
  if (head.type == kArena && (head.flags & kSegvOnFault) != 0) {
    ThrowType(env,
              "fd %d is an arena created with BPF_F_SEGV_ON_FAULT: touching an unallocated page "
              "would kill the process, so mmap() refuses it (create the arena without that flag)",
              fd);
    return false;
  }
  return true;
}

// A perf event's ring takes writes on its first (metadata) page only: the kernel answers a write
// to a data page with SIGBUS, even in a writable mapping.
bool RefusePerfData(napi_env env, const MapRequest& r) {
  if (r.kind != FdKind::kPerfEvent) return true;
  long page = sysconf(_SC_PAGESIZE);
  if (r.offset == 0 && r.length <= static_cast<size_t>(page)) return true;
  ThrowType(env,
            "mmap() maps only the first page (%ld bytes at offset 0) of a perf event fd: its data "
            "pages fault on a JS write; map the whole ring with mmapReadOnlyUnchecked()",
            page);
  return false;
}

// Maps the request MAP_SHARED and wraps it in an external ArrayBuffer unmapped by munmap() or GC.
napi_value MapAndWrap(napi_env env, const MapRequest& r) {
  void* p = mmap(nullptr, r.length, r.prot, MAP_SHARED, r.fd, r.offset);
  if (p == MAP_FAILED) SYS_THROW_ERRNO(env, errno, "mmap");
  auto* m = new Mapping{p, r.length, false};
  {
    std::lock_guard<std::mutex> lock(registryLock);
    Registry()[p] = m;
  }
  napi_value ab;
  if (napi_create_external_arraybuffer(env, p, r.length, FinalizeMapping, m, &ab) != napi_ok) {
    {
      std::lock_guard<std::mutex> lock(registryLock);
      Registry().erase(p);
    }
    munmap(p, r.length);
    delete m;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, nullptr, "mmap: this runtime does not allow external ArrayBuffers");
    return nullptr;
  }
  return ab;
}

// mmap(fd, length, writable, offset = 0): a writable MAP_SHARED mapping as an ArrayBuffer. JS may
// read and write every byte of it, so `writable` must be true: a read-only mapping faults on the
// first JS write (Node has no read-only ArrayBuffer). mmapReadOnlyUnchecked() makes those.
napi_value Mmap(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 4);
  bool writable;
  MapRequest r;
  SYS_CHECK(ParseRequest(env, argv, 3, &r));
  SYS_CHECK(ArgBool(env, argv[2], "writable", &writable));
  if (!writable) {
    ThrowType(env,
              "mmap() makes writable mappings only (a JS write to a read-only mapping kills the "
              "process): pass writable true, or use mmapReadOnlyUnchecked() for pages the kernel "
              "will not map writable and keep that buffer away from code that writes");
    return nullptr;
  }
  SYS_CHECK(RefuseSegvArena(env, r));
  SYS_CHECK(RefusePerfData(env, r));
  r.prot |= PROT_WRITE;
  return MapAndWrap(env, r);
}

// mmapReadOnlyUnchecked(fd, length, offset = 0): a PROT_READ mapping (ring buffer producer and
// data pages, frozen maps). Reading it is safe; it is unchecked in one way: a JS write through it
// raises SIGSEGV.
napi_value MmapReadOnlyUnchecked(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 3);
  MapRequest r;
  SYS_CHECK(ParseRequest(env, argv, 2, &r));
  SYS_CHECK(RefuseSegvArena(env, r));
  return MapAndWrap(env, r);
}

// mmapPerfRingUnchecked(fd, length): a perf event's whole ring (its metadata page and a power of
// two of data pages) mapped read-write in one piece, as the kernel wants it: only a writable
// mapping makes the reader's data_tail count, so that a full ring drops (and counts) new records
// instead of overwriting unread ones. Unchecked in one way: a JS write to a data page raises SIGBUS.
napi_value MmapPerfRingUnchecked(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 3);  // argv[2] stays undefined: the ring is always mapped at offset 0
  MapRequest r;
  SYS_CHECK(ParseRequest(env, argv, 2, &r));
  if (r.kind != FdKind::kPerfEvent) {
    ThrowType(env, "fd %d is not a perf event fd: mmapPerfRingUnchecked() maps perf rings only", r.fd);
    return nullptr;
  }
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t data = r.length / page - 1;
  if (r.length % page != 0 || r.length < 2 * page || (data & (data - 1)) != 0) {
    ThrowRange(env, "length must be 1 + 2^n pages (of %zu bytes), got %zu", page, r.length);
    return nullptr;
  }
  r.prot |= PROT_WRITE;
  return MapAndWrap(env, r);
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
  Export(env, exports, "mmapReadOnlyUnchecked", MmapReadOnlyUnchecked);
  Export(env, exports, "mmapPerfRingUnchecked", MmapPerfRingUnchecked);
  Export(env, exports, "munmap", Munmap);
  Export(env, exports, "pageSize", PageSize);
}

}  // namespace ebpf_sys
