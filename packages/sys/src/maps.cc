// Map hot paths (lookup, update, delete, next key, lookup-and-delete), the per-fd size cache they
// check buffers against, and the fd operations that keep that cache right (close, dup, adoptMap).
//
// Hot paths use the C Node-API directly: one napi_get_cb_info, one conversion per argument, the
// attr on the stack, one syscall, no allocation. Sizes come from the cache, never from JS.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bound.h"
#include "bpf.h"
#include "errors.h"
#include "generated/bpf-rules.generated.h"

namespace ebpf_sys {

// ---------------------------------------------------------------------------------------------
// The size cache: fd -> {type, key size, value size}, lock-free reads.
// Two levels of 1024 x 1024 packed 64-bit entries cover every fd below 2^20 (Linux's default
// nr_open); chunks are allocated on first use and never freed.
//   bit 63: valid, bits 56..62: map type (127 = other), bits 32..55: key size, bits 0..31: value size
namespace {

constexpr int kChunkBits = 10;
constexpr int kChunkSize = 1 << kChunkBits;
constexpr int kChunks = 1024;
constexpr int kMaxCachedFd = kChunks * kChunkSize;
constexpr uint64_t kValid = 1ull << 63;

std::atomic<std::atomic<uint64_t>*> chunks[kChunks];

std::atomic<uint64_t>* Slot(int fd, bool create) {
  if (fd < 0 || fd >= kMaxCachedFd) return nullptr;
  std::atomic<uint64_t>* chunk = chunks[fd >> kChunkBits].load(std::memory_order_acquire);
  if (chunk == nullptr) {
    if (!create) return nullptr;
    auto* fresh = new std::atomic<uint64_t>[kChunkSize];
    for (int i = 0; i < kChunkSize; i++) fresh[i].store(0, std::memory_order_relaxed);
    if (chunks[fd >> kChunkBits].compare_exchange_strong(chunk, fresh, std::memory_order_acq_rel)) {
      chunk = fresh;
    } else {
      delete[] fresh;  // another thread won; `chunk` holds its pointer
    }
  }
  return &chunk[fd & (kChunkSize - 1)];
}

}  // namespace

bool CachePut(int fd, uint32_t type, uint32_t keySize, uint32_t valueSize) {
  uint64_t value = valueSize;
  if (IsPerCpuMapType(type)) {
    value = ((static_cast<uint64_t>(valueSize) + 7) & ~7ull) * PossibleCpus();
  } else if (IsFdMapType(type) && value < 4) {
    value = 4;
  }
  if (value > 0xffffffffull || keySize >= (1u << 24)) return false;
  std::atomic<uint64_t>* slot = Slot(fd, true);
  if (slot == nullptr) return false;
  uint64_t packed = kValid | (static_cast<uint64_t>(type < 127 ? type : 127) << 56) |
                    (static_cast<uint64_t>(keySize) << 32) | value;
  slot->store(packed, std::memory_order_release);
  return true;
}

bool CacheGet(int fd, MapSizes* out) {
  std::atomic<uint64_t>* slot = Slot(fd, false);
  if (slot == nullptr) return false;
  uint64_t v = slot->load(std::memory_order_acquire);
  if ((v & kValid) == 0) return false;
  out->type = static_cast<uint32_t>((v >> 56) & 0x7f);
  out->keySize = static_cast<uint32_t>((v >> 32) & 0xffffff);
  out->valueSize = static_cast<uint32_t>(v);
  return true;
}

bool CacheGetOrThrow(napi_env env, int fd, const char* what, MapSizes* out) {
  if (CacheGet(fd, out)) return true;
  ThrowType(env,
            "%s %d is not a map fd known to @ebpf/sys (create or open it through bpf(), or call "
            "adoptMap(fd) first)",
            what, fd);
  return false;
}

void CacheErase(int fd) {
  std::atomic<uint64_t>* slot = Slot(fd, false);
  if (slot != nullptr) slot->store(0, std::memory_order_release);
}

int QueryMapInfo(int fd, MapInfoHead* out) {
  // struct bpf_map_info up to map_flags is all the cache needs: the kernel copies no more.
  MapInfo mapInfo{};
  InfoAttr attr{};
  attr.bpf_fd = static_cast<uint32_t>(fd);
  attr.info_len = offsetof(MapInfo, map_flags) + sizeof mapInfo.map_flags;
  attr.info = reinterpret_cast<uintptr_t>(&mapInfo);
  if (SysBpf(kCmdObjGetInfoByFd, &attr, sizeof attr) < 0) return errno;
  out->type = mapInfo.type;
  out->keySize = mapInfo.key_size;
  out->valueSize = mapInfo.value_size;
  out->flags = mapInfo.map_flags;
  return 0;
}

int CacheAdopt(int fd) {
  FdKind kind = ClassifyFd(fd);
  MapInfoHead head{};
  int err = kind == FdKind::kMap ? QueryMapInfo(fd, &head) : kind == FdKind::kClosed ? EBADF : EINVAL;
  if (err == 0 && !CachePut(fd, head.type, head.keySize, head.valueSize)) err = E2BIG;
  if (err != 0) CacheErase(fd);
  return err;
}

unsigned PossibleCpus() {
  static std::atomic<unsigned> cached{0};
  unsigned n = cached.load(std::memory_order_relaxed);
  if (n != 0) return n;
  // Format: comma-separated ranges, "0-3,5,7-8". The count is the number of CPUs listed.
  unsigned count = 0;
  FILE* f = fopen("/sys/devices/system/cpu/possible", "re");
  if (f != nullptr) {
    char buf[4096] = {};
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = 0;
    const char* p = buf;
    while (*p >= '0' && *p <= '9') {
      unsigned long a = strtoul(p, const_cast<char**>(&p), 10), b = a;
      if (*p == '-') b = strtoul(p + 1, const_cast<char**>(&p), 10);
      if (b >= a && b - a < 65536) count += static_cast<unsigned>(b - a + 1);
      if (*p != ',') break;
      p++;
    }
  }
  if (count == 0) {
    long conf = sysconf(_SC_NPROCESSORS_CONF);
    count = conf > 0 ? static_cast<unsigned>(conf) : 1;
  }
  cached.store(count, std::memory_order_relaxed);
  return count;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Hot paths.
// BPF_MAP_DELETE_ELEM's attr ends after `key`, BPF_MAP_GET_NEXT_KEY's after `next_key`.
constexpr unsigned kKeyOnlyAttrSize = offsetof(MapElemAttr, value);
constexpr unsigned kNextKeyAttrSize = offsetof(MapElemAttr, flags);

// A key buffer (or null for maps without keys, and for mapNextKey's first call).
inline bool HotKey(napi_env env, napi_value v, const char* name, uint32_t size, bool nullOk,
                   uint64_t* out) {
  napi_typedarray_type type;
  void* p;
  size_t len;
  if (napi_get_typedarray_info(env, v, &type, &len, &p, nullptr, nullptr) == napi_ok &&
      type == napi_uint8_array) {
    if (len >= size) {
      *out = size == 0 ? 0 : reinterpret_cast<uintptr_t>(p);
      return true;
    }
    ThrowRange(env, "%s must be a Uint8Array of %u bytes (the map's key size), got %zu bytes", name,
               size, len);
    return false;
  }
  if ((nullOk || size == 0) && IsNullish(env, v)) {
    *out = 0;
    return true;
  }
  ThrowType(env, "%s must be a Uint8Array of %u bytes (the map's key size)%s", name, size,
            nullOk || size == 0 ? " or null" : "");
  return false;
}

inline bool HotValue(napi_env env, napi_value v, const char* name, uint32_t size, uint64_t* out) {
  napi_typedarray_type type;
  void* p;
  size_t len;
  if (napi_get_typedarray_info(env, v, &type, &len, &p, nullptr, nullptr) == napi_ok &&
      type == napi_uint8_array && len >= size) {
    *out = size == 0 ? 0 : reinterpret_cast<uintptr_t>(p);
    return true;
  }
  if (size == 0 && IsNullish(env, v)) {
    *out = 0;
    return true;
  }
  if (napi_get_typedarray_info(env, v, &type, &len, &p, nullptr, nullptr) == napi_ok &&
      type == napi_uint8_array) {
    ThrowRange(env, "%s must be a Uint8Array of %u bytes (the map's value size%s), got %zu bytes",
               name, size, size > 0 ? ", per CPU for per-CPU maps" : "", len);
  } else {
    ThrowType(env, "%s must be a Uint8Array of %u bytes (the map's value size)", name, size);
  }
  return false;
}

inline bool HotFlags(napi_env env, napi_value v, uint64_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) == napi_ok && d >= 0 && d <= 9007199254740991.0) {
    uint64_t u = static_cast<uint64_t>(d);
    if (static_cast<double>(u) == d) {
      *out = u;
      return true;
    }
  }
  return ArgFlags(env, v, "flags", out);
}

inline napi_value Bool(napi_env env, bool b) {
  napi_value r;
  napi_get_boolean(env, b, &r);
  return r;
}

// The argument handling every hot path shares: fd (and its cached sizes), key, then either a
// value and flags (kValue), or a second key (kNextKey), or nothing (kKeyOnly), into the attr.
enum class Shape { kValue, kKeyOnly, kNextKey };

inline bool ParseElem(napi_env env, napi_value* argv, Shape shape, MapElemAttr* a) {
  int fd;
  MapSizes s;
  if (!FastFd(env, argv[0], "fd", &fd) || !CacheGetOrThrow(env, fd, "fd", &s) ||
      !HotKey(env, argv[1], "key", s.keySize, shape == Shape::kNextKey, &a->key))
    return false;
  a->map_fd = static_cast<uint32_t>(fd);
  if (shape == Shape::kNextKey) return HotKey(env, argv[2], "next", s.keySize, false, &a->next_key);
  if (shape == Shape::kKeyOnly) return true;
  return HotValue(env, argv[2], "value", s.valueSize, &a->value) && HotFlags(env, argv[3], &a->flags);
}

// One hot path: parse, call, map ENOENT to false when `enoentIsFalse`.
template <unsigned kCmd, Shape kShape, bool kEnoentIsFalse>
napi_value ElemOp(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 4);
  MapElemAttr a{};
  SYS_CHECK(ParseElem(env, argv, kShape, &a));
  unsigned size = kShape == Shape::kKeyOnly ? kKeyOnlyAttrSize : kShape == Shape::kNextKey ? kNextKeyAttrSize : sizeof a;
  if (SysBpf(kCmd, &a, size) < 0) {
    if (kEnoentIsFalse && errno == ENOENT) return Bool(env, false);
    SYS_THROW_ERRNO(env, errno, BpfCommandName(kCmd));
  }
  return kEnoentIsFalse ? Bool(env, true) : nullptr;
}

// noop(fd, key, value, flags): mapLookup's argument handling without the syscall (the W0 floor).
napi_value Noop(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 4);
  MapElemAttr a{};
  SYS_CHECK(ParseElem(env, argv, Shape::kValue, &a));
  // Keep the compiler from dropping the attr: the floor includes building it.
  asm volatile("" : : "r"(&a) : "memory");
  return Bool(env, true);
}

// ---------------------------------------------------------------------------------------------
// Accessors: the hot paths bound to one map and to memory of their own (bound.h), for callers
// that encode keys and values themselves (core's codecs). access(op) passes one small integer.
//
// Memory: a header of u32 slots, then the key, value and next-key regions, each 8-byte aligned.
enum AccessSlot : uint32_t { kFlagsLo, kFlagsHi, kNoKey, kAccessSlots = 4 };
constexpr uint32_t kAccessHeader = kAccessSlots * sizeof(uint32_t);
enum AccessOp : int32_t { kOpLookup, kOpUpdate, kOpDelete, kOpNextKey, kOpLookupAndDelete };

struct Accessor {
  BoundMemory memory;
  int fd = -1;
  MapSizes sizes{};  // what the cache held at creation; the fd must still name such a map
  uint32_t keyOffset = 0, valueOffset = 0, nextOffset = 0;
};

void FreeAccessor(napi_env env, void* data, void*) {
  auto* a = static_cast<Accessor*>(data);
  ReleaseBoundMemory(env, &a->memory);
  delete a;
}

// access(op): op is an AccessOp. The key is the key region, or NULL when the kNoKey slot is set
// (queues, stacks, a walk's first key); flags come from the two flag slots. Returns what the
// matching map* function returns: false for ENOENT where that is an answer, not an error.
napi_value Access(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  void* state;
  double d = -1;
  if (napi_get_cb_info(env, info, &argc, &arg, nullptr, &state) != napi_ok) return nullptr;
  if (argc < 1 || napi_get_value_double(env, arg, &d) != napi_ok) d = -1;
  // Range first: casting NaN or an out-of-range double to an integer is undefined.
  if (!(d >= kOpLookup && d <= kOpLookupAndDelete) || d != static_cast<int32_t>(d)) {
    ThrowRange(env, "op must be an integer from %d to %d", kOpLookup, kOpLookupAndDelete);
    return nullptr;
  }
  auto op = static_cast<int32_t>(d);
  auto* a = static_cast<Accessor*>(state);
  // The fd is checked on every call: closed, or reused for a map of other sizes, it must not
  // reach the kernel with regions sized for the old one.
  MapSizes now;
  if (!CacheGet(a->fd, &now) || now.keySize != a->sizes.keySize ||
      now.valueSize != a->sizes.valueSize) {
    ThrowType(env, "map fd %d was closed or now names another map; make a new accessor", a->fd);
    return nullptr;
  }
  uint8_t* base = BoundBase(env, a->memory, "map accessor");
  if (base == nullptr) return nullptr;
  const auto* header = reinterpret_cast<const uint32_t*>(base);
  uint32_t keySize = a->sizes.keySize, valueSize = a->sizes.valueSize;
  MapElemAttr attr{};
  attr.map_fd = static_cast<uint32_t>(a->fd);
  attr.key = header[kNoKey] != 0 || keySize == 0 ? 0 : reinterpret_cast<uintptr_t>(base + a->keyOffset);
  int cmd;
  unsigned size = sizeof attr;
  switch (op) {
    case kOpDelete:
      cmd = kCmdMapDeleteElem;
      size = kKeyOnlyAttrSize;
      break;
    case kOpNextKey:
      cmd = kCmdMapGetNextKey;
      size = kNextKeyAttrSize;
      attr.next_key = keySize == 0 ? 0 : reinterpret_cast<uintptr_t>(base + a->nextOffset);
      break;
    default:
      cmd = op == kOpLookup ? kCmdMapLookupElem : op == kOpUpdate ? kCmdMapUpdateElem : kCmdMapLookupAndDeleteElem;
      attr.value = valueSize == 0 ? 0 : reinterpret_cast<uintptr_t>(base + a->valueOffset);
      attr.flags = header[kFlagsLo] | static_cast<uint64_t>(header[kFlagsHi]) << 32;
  }
  if (SysBpf(cmd, &attr, size) < 0) {
    if (op != kOpUpdate && errno == ENOENT) return Bool(env, false);
    SYS_THROW_ERRNO(env, errno, BpfCommandName(cmd));
  }
  return op == kOpUpdate ? nullptr : Bool(env, true);
}

// mapAccessor(fd): [access, memory, keyOffset, valueOffset, nextOffset] for a map the size cache
// knows; the regions hold its key size, its value size per call, and its key size again.
napi_value MapAccessor(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 1);
  int fd;
  MapSizes sizes;
  SYS_CHECK(ArgFd(env, argv[0], "fd", &fd) && CacheGetOrThrow(env, fd, "fd", &sizes));
  auto* a = new Accessor();
  a->fd = fd;
  a->sizes = sizes;
  auto align = [](size_t n) { return (n + 7) & ~size_t{7}; };
  a->keyOffset = kAccessHeader;
  a->valueOffset = static_cast<uint32_t>(align(a->keyOffset + sizes.keySize));
  a->nextOffset = static_cast<uint32_t>(align(a->valueOffset + size_t{sizes.valueSize}));
  size_t total = align(a->nextOffset + sizes.keySize);
  napi_value buffer, access, out;
  if (!CreateBoundMemory(env, total, &a->memory, &buffer) ||
      !CreateBoundFunction(env, "access", Access, a, FreeAccessor, &access)) {
    FreeAccessor(env, a, nullptr);
    return nullptr;
  }
  napi_create_array_with_length(env, 5, &out);
  napi_set_element(env, out, 0, access);
  napi_set_element(env, out, 1, buffer);
  const uint32_t offsets[3] = {a->keyOffset, a->valueOffset, a->nextOffset};
  for (uint32_t i = 0; i < 3; i++) {
    napi_value n;
    napi_create_uint32(env, offsets[i], &n);
    napi_set_element(env, out, 2 + i, n);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// fd operations.

// close(fd): evicts the fd from the size cache, then closes it.
napi_value Close(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 1);
  int fd;
  SYS_ARG_FD(env, argv[0], "fd", fd);
  if (FdWatched(fd)) {
    ThrowType(env, "fd %d is watched by an FdWatcher: close the watcher before the fd", fd);
    return nullptr;
  }
  CacheErase(fd);
  // Linux releases the fd even when close() reports EINTR: never retry.
  if (close(fd) < 0 && errno != EINTR) SYS_THROW_ERRNO(env, errno, "close");
  return nullptr;
}

// dup(fd): a new close-on-exec fd for the same object. For a map, the new fd's sizes are asked of
// the kernel rather than copied from `fd`'s entry, which is stale if `fd` was closed behind this
// package's back and its number reused by a map made elsewhere (core's fromFd goes through here).
napi_value Dup(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 1);
  int fd;
  SYS_ARG_FD(env, argv[0], "fd", fd);
  int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (nfd < 0) SYS_THROW_ERRNO(env, errno, "dup");
  CacheAdopt(nfd);  // fills the entry for a map, clears it for anything else
  napi_value r;
  napi_create_int32(env, nfd, &r);
  return r;
}

// adoptMap(fd): queries the map's sizes (BPF_OBJ_GET_INFO_BY_FD) so the checked paths accept it.
napi_value AdoptMap(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 1);
  int fd;
  SYS_ARG_FD(env, argv[0], "fd", fd);
  int err = CacheAdopt(fd);
  if (err == EINVAL) {
    ThrowType(env, "fd %d is not a BPF map", fd);
    return nullptr;
  }
  if (err != 0) SYS_THROW_ERRNO(env, err, "BPF_OBJ_GET_INFO_BY_FD");
  return nullptr;
}

// mapSizes(fd): [type, keySize, valueSize] from the cache, or null.
napi_value CachedMapSizes(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 1);
  int fd;
  SYS_ARG_FD(env, argv[0], "fd", fd);
  MapSizes s;
  napi_value r;
  if (!CacheGet(fd, &s)) {
    napi_get_null(env, &r);
    return r;
  }
  napi_create_array_with_length(env, 3, &r);
  uint32_t v[3] = {s.type, s.keySize, s.valueSize};
  for (uint32_t i = 0; i < 3; i++) {
    napi_value n;
    napi_create_uint32(env, v[i], &n);
    napi_set_element(env, r, i, n);
  }
  return r;
}

napi_value PossibleCpusJs(napi_env env, napi_callback_info) {
  napi_value r;
  napi_create_uint32(env, PossibleCpus(), &r);
  return r;
}

}  // namespace

void InitMaps(napi_env env, napi_value exports) {
  // mapLookup(fd, key, value, flags): boolean, false when the key is not there (ENOENT).
  Export(env, exports, "mapLookup", ElemOp<kCmdMapLookupElem, Shape::kValue, true>);
  // mapUpdate(fd, key, value, flags): undefined; throws on every failure.
  Export(env, exports, "mapUpdate", ElemOp<kCmdMapUpdateElem, Shape::kValue, false>);
  // mapDelete(fd, key): boolean, false when the key was not there.
  Export(env, exports, "mapDelete", ElemOp<kCmdMapDeleteElem, Shape::kKeyOnly, true>);
  // mapNextKey(fd, key | null, next): boolean, false at the end of the map.
  Export(env, exports, "mapNextKey", ElemOp<kCmdMapGetNextKey, Shape::kNextKey, true>);
  // mapLookupAndDelete(fd, key | null, value, flags): boolean, false when not there / empty.
  Export(env, exports, "mapLookupAndDelete", ElemOp<kCmdMapLookupAndDeleteElem, Shape::kValue, true>);
  Export(env, exports, "mapAccessor", MapAccessor);
  Export(env, exports, "noop", Noop);
  Export(env, exports, "close", Close);
  Export(env, exports, "dup", Dup);
  Export(env, exports, "adoptMap", AdoptMap);
  Export(env, exports, "mapSizes", CachedMapSizes);
  Export(env, exports, "possibleCpus", PossibleCpusJs);
}

}  // namespace ebpf_sys
