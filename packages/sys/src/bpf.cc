// The checked generic bpf(cmd, attr, pointers) and BPF_OBJ_GET_INFO_BY_FD with nested pointers.
//
// For every command, generated/bpf-rules.generated.h gives (from the uapi layouts the codegen
// reads) the size of the command's attr and each pointer field with the rule that bounds what the
// kernel reads or writes through it. JS passes the attr bytes and [offset, buffer] pairs; native copies the attr
// to the stack, checks every pair against the table, writes each buffer's address at its offset,
// writes 0 at every pointer field not given, calls the kernel, and copies the attr back (pointer
// fields excluded, so addresses never reach JS). Bytes of the attr past the fields known here
// must be zero: a field this file does not know could be a pointer.
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <new>

#include "bpf.h"
#include "errors.h"
#include "generated/bpf-rules.generated.h"

namespace ebpf_sys {

long SysBpf(int cmd, void* attr, unsigned size) { return syscall(__NR_bpf, cmd, attr, size); }

namespace {

constexpr unsigned kMaxAttr = 4096;    // larger attrs are refused outright
constexpr unsigned kMaxPointers = 16;  // pairs per call, and fields per layout
static_assert(kMaxLayoutFields <= kMaxPointers, "a generated layout has more fields than pairs");

Layout LayoutFor(unsigned cmd, const uint8_t* attr) {
  if (cmd == kCmdLinkCreate) {
    uint32_t attachType;
    memcpy(&attachType, attr + 8, 4);
    return LinkCreateLayout(attachType);
  }
  return kSpecs[cmd].layout;
}

struct InfoSpec {
  unsigned size;
  Layout layout;
  const char* what;
};

// ---------------------------------------------------------------------------------------------
// Checking.

struct Given {
  uint8_t* data;
  size_t len;
  bool present;  // a pair named this field (possibly with null)
};

// memcpy that allows n == 0 with a null pointer (an empty or detached Uint8Array).
void CopyBytes(void* dst, const void* src, size_t n) {
  if (n != 0) memcpy(dst, src, n);
}

uint32_t U32(const uint8_t* p, unsigned off) {
  uint32_t v;
  memcpy(&v, p + off, 4);
  return v;
}

// The largest fd_array index the instructions use (+1), so fd_array needs 4 * that many bytes.
uint64_t FdArrayNeed(const uint8_t* insns, size_t insnBytes, uint32_t insnCnt) {
  uint64_t n = insnCnt;
  if (n * 8 > insnBytes) n = insnBytes / 8;
  uint64_t need = 0;
  for (uint64_t i = 0; i < n; i++) {
    const uint8_t* in = insns + i * 8;
    uint8_t code = in[0], src = in[1] >> 4;
    int16_t off;
    int32_t imm;
    memcpy(&off, in + 2, 2);
    memcpy(&imm, in + 4, 4);
    if (code == 0x18 && (src == 5 || src == 6)) {  // ld_imm64 BPF_PSEUDO_MAP_IDX(_VALUE)
      uint64_t idx = static_cast<uint32_t>(imm);
      if (idx + 1 > need) need = idx + 1;
    } else if (code == 0x85 && src == 2 && off > 0) {  // kfunc call, BTF fd at fd_array[off]
      if (static_cast<uint64_t>(off) + 1 > need) need = static_cast<uint64_t>(off) + 1;
    }
  }
  return need;
}

// Checks one given buffer against its field's rule. `attr` holds the (stack) struct the rule's
// length fields are read from. Throws and returns false on failure.
bool CheckField(napi_env env, const char* where, const Field& f, const uint8_t* attr,
                const Given& g, const MapSizes* map, const Given* insns) {
  uint64_t need = 0;
  switch (f.rule) {
    case Rule::kLen:
    case Rule::kLenNonZero: {
      uint32_t n = U32(attr, f.a);
      if (f.rule == Rule::kLenNonZero && n == 0) {
        ThrowRange(env, "%s: %s needs its size field (offset %u) set to the buffer's length, not 0",
                   where, f.name, f.a);
        return false;
      }
      need = static_cast<uint64_t>(n) * f.mult;
      break;
    }
    case Rule::kCountRecord: {
      uint64_t rec = U32(attr, f.b);
      if (rec < f.mult) rec = f.mult;
      need = static_cast<uint64_t>(U32(attr, f.a)) * rec;
      break;
    }
    case Rule::kString:
      if (g.len == 0 || memchr(g.data, 0, g.len) == nullptr) {
        ThrowRange(env, "%s: %s must be a NUL-terminated string (no NUL in its %zu bytes)", where,
                   f.name, g.len);
        return false;
      }
      return true;
    case Rule::kMapKey: need = map->keySize; break;
    case Rule::kMapValue: need = map->valueSize; break;
    case Rule::kBatchToken: need = map->keySize > 4 ? map->keySize : 4; break;
    case Rule::kBatchKeys: need = static_cast<uint64_t>(U32(attr, f.a)) * map->keySize; break;
    case Rule::kBatchValues: need = static_cast<uint64_t>(U32(attr, f.a)) * map->valueSize; break;
    case Rule::kFdArray: {
      need = static_cast<uint64_t>(U32(attr, f.a)) * 4;
      if (insns != nullptr && insns->data != nullptr) {
        uint64_t used = FdArrayNeed(insns->data, insns->len, U32(attr, 4)) * 4;
        if (used > need) need = used;
      }
      break;
    }
    case Rule::kInfo: need = U32(attr, f.a); break;
    case Rule::kStringArray: {
      uint32_t want = U32(attr, f.a);
      uint32_t found = 0;
      for (size_t i = 0; i < g.len && found < want; i++) found += g.data[i] == 0;
      if (found < want) {
        ThrowRange(env, "%s: %s must hold %u NUL-terminated names back to back, found %u", where,
                   f.name, want, found);
        return false;
      }
      return true;
    }
  }
  if (g.len < need) {
    ThrowRange(env, "%s: %s must be a Uint8Array of at least %llu bytes, got %zu bytes", where,
               f.name, static_cast<unsigned long long>(need), g.len);
    return false;
  }
  return true;
}

// Reads [offset, buffer | null, ...] from `v` into `given` (indexed like the layout).
// Reads [offset, buffer | null, ...] pairs (`items`, n values) into `given` (indexed like the
// layout). A pair whose offset is undefined is absent (the unused slots of bpfPairs()).
bool ReadPairs(napi_env env, const napi_value* items, uint32_t n, const char* where,
               const char* argName, const Layout& layout, Given* given) {
  for (unsigned i = 0; i < layout.count; i++) given[i] = Given{nullptr, 0, false};
  for (uint32_t i = 0; i + 1 < n; i += 2) {
    napi_value ov = items[i], bv = items[i + 1];
    char name[96];
    double d;
    int64_t off;
    if (napi_get_value_double(env, ov, &d) == napi_ok && d >= 0 && d <= 65535 &&
        static_cast<double>(static_cast<int64_t>(d)) == d) {
      off = static_cast<int64_t>(d);
    } else {
      napi_valuetype t;
      if (napi_typeof(env, ov, &t) == napi_ok && t == napi_undefined && IsNullish(env, bv)) continue;
      snprintf(name, sizeof name, "%s[%u] (an offset)", argName, i);
      if (!ArgInt(env, ov, name, 0, 65535, &off)) return false;
    }
    unsigned k = 0;
    while (k < layout.count && layout.fields[k].offset != off) k++;
    if (k == layout.count) {
      // A null pair names no buffer: harmless anywhere (layouts list every pointer slot of a
      // union, e.g. MapElemAttr's value at 16 for a delete). A buffer must match a field.
      if (IsNullish(env, bv)) continue;
      ThrowRange(env, "%s: offset %lld is not a pointer field of this command%s", where,
                 static_cast<long long>(off),
                 layout.fields == nullptr ? " (it has none here)" : "");
      return false;
    }
    if (given[k].present) {
      ThrowRange(env, "%s: pointer field %s given twice", where, layout.fields[k].name);
      return false;
    }
    given[k].present = true;
    napi_typedarray_type type;
    void* data = nullptr;
    size_t len = 0;
    if (napi_get_typedarray_info(env, bv, &type, &len, &data, nullptr, nullptr) == napi_ok &&
        type == napi_uint8_array) {
      // An empty (or detached) buffer passes as a null pointer.
      given[k].data = len == 0 ? nullptr : static_cast<uint8_t*>(data);
      given[k].len = given[k].data == nullptr ? 0 : len;
      continue;
    }
    if (IsNullish(env, bv)) continue;
    snprintf(name, sizeof name, "%s[%u] (the buffer of %s)", argName, i + 1, layout.fields[k].name);
    uint8_t* unused;
    ArgBytes(env, bv, name, &unused, &len);  // throws the named TypeError
    return false;
  }
  return true;
}

// Reads the pairs from a JS array (or null/undefined: none).
bool ReadPairArray(napi_env env, napi_value v, const char* where, const char* argName,
                   const Layout& layout, Given* given) {
  if (IsNullish(env, v)) return ReadPairs(env, nullptr, 0, where, argName, layout, given);
  bool isArray = false;
  if (napi_is_array(env, v, &isArray) != napi_ok || !isArray) {
    ThrowType(env, "%s must be an array of [offset, Uint8Array | null] pairs", argName);
    return false;
  }
  uint32_t n = 0;
  napi_get_array_length(env, v, &n);
  if (n % 2 != 0 || n > 2 * kMaxPointers) {
    ThrowRange(env, "%s must hold pairs of [offset, buffer] (at most %u pairs), got %u elements",
               argName, kMaxPointers, n);
    return false;
  }
  napi_value items[2 * kMaxPointers];
  for (uint32_t i = 0; i < n; i++) {
    if (napi_get_element(env, v, i, &items[i]) != napi_ok) return false;
  }
  return ReadPairs(env, items, n, where, argName, layout, given);
}

// Checks every given buffer and writes the addresses (0 where none) into `attr`.
// Private copies handed to the kernel instead of JS memory, owned by one call.
struct Scratch {
  std::unique_ptr<uint8_t[]> blocks[4];
  unsigned used = 0;
  uint8_t* Copy(const uint8_t* from, size_t n) {
    if (used == 4) return nullptr;
    blocks[used].reset(new (std::nothrow) uint8_t[n > 0 ? n : 1]);
    if (blocks[used] == nullptr) return nullptr;
    if (from != nullptr) CopyBytes(blocks[used].get(), from, n);
    return blocks[used++].get();
  }
};

bool ApplyPointers(napi_env env, const char* where, const Layout& layout, uint8_t* attr,
                   Given* given, const MapSizes* map, Scratch* scratch) {
  // BPF_PROG_LOAD with an fd_array: the rule reads the instructions (field 0), so the kernel gets
  // a private copy of them, the very bytes that were scanned: a SharedArrayBuffer changed by
  // another thread after the check cannot make the kernel read past the fd_array.
  Given insns{nullptr, 0, false};
  bool copyInsns = layout.fields == kPointersProgLoad && given[0].data != nullptr && given[5].data != nullptr &&
                   scratch != nullptr;
  if (copyInsns) {
    if (!CheckField(env, where, layout.fields[0], attr, given[0], map, nullptr)) return false;
    size_t bytes = static_cast<size_t>(U32(attr, 4)) * 8;
    uint8_t* copy = scratch->Copy(given[0].data, bytes);
    if (copy == nullptr) {
      ThrowRange(env, "%s: could not copy %zu bytes of instructions", where, bytes);
      return false;
    }
    insns = Given{copy, bytes, true};
    given[0].data = copy;
  }
  for (unsigned i = 0; i < layout.count; i++) {
    const Field& f = layout.fields[i];
    uint64_t addr = 0;
    if (given[i].data != nullptr) {
      if (!CheckField(env, where, f, attr, given[i], map, copyInsns ? &insns : nullptr)) return false;
      if (f.rule == Rule::kStringArray) {
        // The kernel reads cnt pointers, then a string at each: both live in private copies.
        uint32_t cnt = U32(attr, f.a);
        uint8_t* names = scratch != nullptr ? scratch->Copy(given[i].data, given[i].len) : nullptr;
        uint8_t* table = scratch != nullptr ? scratch->Copy(nullptr, static_cast<size_t>(cnt) * 8) : nullptr;
        if (names == nullptr || table == nullptr) {
          ThrowRange(env, "%s: could not copy %s", where, f.name);
          return false;
        }
        // Walk the copy (not JS memory, which another thread could change after the check).
        size_t at = 0, len = given[i].len;
        for (uint32_t k = 0; k < cnt; k++) {
          const void* nul = at < len ? memchr(names + at, 0, len - at) : nullptr;
          if (nul == nullptr) {
            ThrowRange(env, "%s: %s changed while being copied", where, f.name);
            return false;
          }
          uint64_t p = reinterpret_cast<uintptr_t>(names + at);
          memcpy(table + static_cast<size_t>(k) * 8, &p, 8);
          at = static_cast<const uint8_t*>(nul) - names + 1;
        }
        given[i].data = table;
      } else if (f.rule == Rule::kString && scratch != nullptr) {
        // The kernel reads a C string up to its own limit: give it the checked bytes, up to the
        // NUL, so no other thread can remove the NUL in between.
        const void* nul = memchr(given[i].data, 0, given[i].len);
        size_t n = nul != nullptr ? static_cast<const uint8_t*>(nul) - given[i].data + 1 : given[i].len;
        uint8_t* copy = scratch->Copy(given[i].data, n);
        if (copy == nullptr) {
          ThrowRange(env, "%s: could not copy %s", where, f.name);
          return false;
        }
        copy[n - 1] = 0;  // terminated even if the NUL moved meanwhile
        given[i].data = copy;
      }
      addr = reinterpret_cast<uintptr_t>(given[i].data);
    }
    memcpy(attr + f.offset, &addr, 8);
  }
  return true;
}

bool NeedsMap(const Layout& layout, const Given* given) {
  for (unsigned i = 0; i < layout.count; i++) {
    Rule r = layout.fields[i].rule;
    if (given[i].data != nullptr &&
        (r == Rule::kMapKey || r == Rule::kMapValue || r == Rule::kBatchToken ||
         r == Rule::kBatchKeys || r == Rule::kBatchValues))
      return true;
  }
  return false;
}

// Copies the stack attr back to JS, leaving JS's bytes at every pointer field.
void CopyBack(uint8_t* js, size_t jsLen, uint8_t* stack, unsigned size, const Layout& layout) {
  for (unsigned i = 0; i < layout.count; i++) {
    unsigned off = layout.fields[i].offset;
    if (off + 8 <= jsLen) memcpy(stack + off, js + off, 8);
    else if (off < jsLen) memcpy(stack + off, js + off, jsLen - off);
  }
  CopyBytes(js, stack, jsLen < size ? jsLen : size);
}

// Rejects non-zero bytes past `known` (they could be fields, even pointers, unknown here).
bool CheckTail(napi_env env, const char* where, const char* what, const uint8_t* p, size_t len,
               unsigned known) {
  for (size_t i = known; i < len; i++) {
    if (p[i] != 0) {
      ThrowRange(env,
                 "%s: %s has a non-zero byte at offset %zu, past the %u bytes this @ebpf/sys "
                 "knows for it",
                 where, what, i, known);
      return false;
    }
  }
  return true;
}

// The pointers of a bpf_link_info of `type` (perf_event links: by their perf event type).
Layout LinkInfoOf(uint32_t type, uint32_t perfType) {
  return type == kLinkTypePerfEvent ? LinkPerfInfoLayout(perfType) : LinkInfoLayout(type);
}

// --- BPF_OBJ_GET_INFO_BY_FD ---------------------------------------------------------------------

// Finds the info layout for `fd`'s object. For links, asks the kernel for the link's type first
// (a zeroed bpf_link_info has no pointers), since the union's pointers depend on it.
bool InfoSpecFor(napi_env env, int fd, InfoSpec* out) {
  switch (ClassifyFd(fd)) {
    case FdKind::kProg:
      *out = {kProgInfoSize, LayoutOf(kPointersProgInfo), "bpf_prog_info"};
      return true;
    case FdKind::kMap: *out = {kMapInfoSize, LayoutOf(kPointersMapInfo), "bpf_map_info"}; return true;
    case FdKind::kBtf: *out = {kBtfInfoSize, LayoutOf(kPointersBtfInfo), "bpf_btf_info"}; return true;
    case FdKind::kLink: {
      uint8_t probe[kLinkInfoSize] = {};
      struct {
        uint32_t bpf_fd, info_len;
        uint64_t info;
      } attr = {static_cast<uint32_t>(fd), sizeof probe, reinterpret_cast<uintptr_t>(probe)};
      if (SysBpf(kCmdObjGetInfoByFd, &attr, sizeof attr) < 0) {
        ThrowSys(env, errno, "BPF_OBJ_GET_INFO_BY_FD");
        return false;
      }
      uint32_t type = U32(probe, 0);
      if (type > kMaxLinkType) {
        ThrowType(env, "fd %d is a link of type %u, unknown to this @ebpf/sys", fd, type);
        return false;
      }
      *out = {kLinkInfoSize, LinkInfoOf(type, U32(probe, kLinkInfoPerfTypeAt)), "bpf_link_info"};
      return true;
    }
    case FdKind::kClosed: ThrowSys(env, EBADF, "BPF_OBJ_GET_INFO_BY_FD"); return false;
    default:
      ThrowType(env, "fd %d is not a BPF program, map, link or BTF object", fd);
      return false;
  }
}

// The info call: `attr` is the stack copy of the 16-byte attr (bpf_fd, info_len), `info` the JS
// buffer, `nested` the [offset, buffer] pairs inside it. Returns the syscall's result (< 0: errno
// set) or -2 after throwing.
long ObjGetInfo(napi_env env, uint8_t* attr, uint8_t* info, size_t infoLen, napi_value nested,
                const char* nestedName) {
  const char* where = "BPF_OBJ_GET_INFO_BY_FD";
  int fd = static_cast<int>(U32(attr, 0));
  uint32_t userLen = U32(attr, 4);
  if (userLen > infoLen) {
    ThrowRange(env, "%s: info must be a Uint8Array of at least %u bytes (info_len), got %zu bytes",
               where, userLen, infoLen);
    return -2;
  }
  InfoSpec spec;
  if (!InfoSpecFor(env, fd, &spec)) return -2;
  Given given[kMaxPointers];
  if (!ReadPairArray(env, nested, where, nestedName, spec.layout, given)) return -2;
  if (!CheckTail(env, where, spec.what, info, userLen, spec.size)) return -2;
  uint8_t copy[kMaxInfoSize] = {};
  unsigned passLen = userLen < spec.size ? userLen : spec.size;
  CopyBytes(copy, info, passLen);
  // Pointer fields beyond info_len are never read by the kernel; inside it they are ours.
  Layout inLen{spec.layout.fields, 0};
  while (inLen.count < spec.layout.count && spec.layout.fields[inLen.count].offset + 8u <= passLen)
    inLen.count++;
  for (unsigned i = inLen.count; i < spec.layout.count; i++) {
    if (given[i].data != nullptr) {
      ThrowRange(env, "%s: %s lies past info_len (%u)", where, spec.layout.fields[i].name, userLen);
      return -2;
    }
  }
  if (!ApplyPointers(env, where, inLen, copy, given, nullptr, nullptr)) return -2;
  // A count whose buffer is not given is passed as 0 (unless another given buffer shares it), so
  // the kernel only reports the real count instead of writing to address 0 (EFAULT).
  for (unsigned i = 0; i < spec.layout.count; i++) {
    const Field& f = spec.layout.fields[i];
    if (given[i].data != nullptr || (f.rule != Rule::kLen && f.rule != Rule::kCountRecord)) continue;
    bool shared = false;
    for (unsigned j = 0; j < spec.layout.count; j++)
      shared |= given[j].data != nullptr && spec.layout.fields[j].a == f.a;
    if (!shared && f.a + 4u <= passLen) memset(copy + f.a, 0, 4);
  }
  uint64_t copyAddr = reinterpret_cast<uintptr_t>(copy);
  uint32_t pass32 = passLen;
  memcpy(attr + 4, &pass32, 4);
  memcpy(attr + 8, &copyAddr, 8);
  long r = SysBpf(kCmdObjGetInfoByFd, attr, 16);
  int saved = errno;
  uint32_t outLen = U32(attr, 4);
  if (outLen > passLen) outLen = passLen;
  CopyBack(info, outLen, copy, outLen, inLen);
  errno = saved;
  return r;
}

// ---------------------------------------------------------------------------------------------
// The checked call. `items` are the pairs: a JS array (`array` set) or bpfPairs()'s arguments.
napi_value BpfCall(napi_env env, napi_value* argv, napi_value array, const napi_value* items,
                   uint32_t nItems) {
  int64_t cmd64;
  SYS_CHECK(ArgInt(env, argv[0], "cmd", 0, 4294967295.0, &cmd64));
  if (cmd64 >= kCmdCount) {
    ThrowRange(env, "cmd %lld is not a bpf command known to this @ebpf/sys (0..%u)",
               static_cast<long long>(cmd64), kCmdCount - 1);
    return nullptr;
  }
  unsigned cmd = static_cast<unsigned>(cmd64);
  const CmdSpec& spec = kSpecs[cmd];
  const char* where = kCmdNames[cmd];
  uint8_t* js;
  size_t jsLen;
  SYS_CHECK(FastBytes(env, argv[1], "attr", &js, &jsLen));
  if (jsLen > kMaxAttr) {
    ThrowRange(env, "attr must be at most %u bytes, got %zu", kMaxAttr, jsLen);
    return nullptr;
  }
  SYS_CHECK(CheckTail(env, where, "attr", js, jsLen, spec.size));
  alignas(8) uint8_t attr[kMaxAttrKnown] = {};
  CopyBytes(attr, js, jsLen < spec.size ? jsLen : spec.size);

  long r;
  if (cmd == kCmdObjGetInfoByFd) {
    // The info buffer is the one pointer pair; nested pointers go through objInfo().
    Given given[1];
    Layout layout = spec.layout;
    SYS_CHECK(array != nullptr ? ReadPairArray(env, array, where, "pointers", layout, given)
                               : ReadPairs(env, items, nItems, where, "pointers", layout, given));
    if (given[0].data == nullptr) {
      ThrowType(env, "%s: info (offset 8) must be given as a Uint8Array", where);
      return nullptr;
    }
    napi_value none;
    napi_get_null(env, &none);
    r = ObjGetInfo(env, attr, given[0].data, given[0].len, none, "nested");
    if (r == -2) return nullptr;
    int saved = errno;
    CopyBack(js, jsLen, attr, spec.size, layout);
    if (r < 0) SYS_THROW_ERRNO(env, saved, where);
  } else {
    Layout layout = LayoutFor(cmd, attr);
    Given given[kMaxPointers];
    SYS_CHECK(array != nullptr ? ReadPairArray(env, array, where, "pointers", layout, given)
                               : ReadPairs(env, items, nItems, where, "pointers", layout, given));
    MapSizes map{};
    if (NeedsMap(layout, given)) {
      int mapFd = static_cast<int>(U32(attr, spec.mapFdAt));
      SYS_CHECK(CacheGetOrThrow(env, mapFd, "map_fd", &map));
    }
    Scratch scratch;
    SYS_CHECK(ApplyPointers(env, where, layout, attr, given, &map, &scratch));
    r = SysBpf(static_cast<int>(cmd), attr, spec.size);
    int saved = errno;
    CopyBack(js, jsLen, attr, spec.size, layout);
    if (r < 0) SYS_THROW_ERRNO(env, saved, where);
    // A new fd number may have been a map once (closed behind our back): forget that map.
    if (r >= 0 && spec.returnsFd) CacheErase(static_cast<int>(r));
    // New map fds join the size cache; a failure here must not leak the fd. A map made here has
    // the type and sizes of the attr the kernel just took (it keeps them as given): no need to
    // ask it back. Maps opened by id or pin are asked.
    int err = 0;
    if (r >= 0 && cmd == kCmdMapCreate) {
      MapCreateAttr created;
      memcpy(&created, attr, sizeof created);
      if (!CachePut(static_cast<int>(r), created.map_type, created.key_size, created.value_size))
        err = E2BIG;
    } else if (r >= 0 && (cmd == kCmdMapGetFdById ||
                          (cmd == kCmdObjGet && ClassifyFd(static_cast<int>(r)) == FdKind::kMap))) {
      err = CacheAdopt(static_cast<int>(r));
    }
    if (err != 0) {
      close(static_cast<int>(r));
      SYS_THROW_ERRNO(env, err, where);
    }
  }
  napi_value result;
  napi_create_int64(env, r, &result);
  return result;
}

// bpf(cmd, attr, pointers?): number
napi_value Bpf(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 3);
  napi_value none;
  napi_get_null(env, &none);
  return BpfCall(env, argv, IsNullish(env, argv[2]) ? none : argv[2], nullptr, 0);
}

// bpfPairs(cmd, attr, offset0, buffer0, ..., offset3, buffer3): number. The same call with up to
// four pairs as arguments: index.ts's bpf() passes the non-null pairs this way, which saves
// reading array elements one Node-API call at a time (the test-run hot path).
napi_value BpfPairs(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 10);
  uint32_t n = argc > 10 ? 8 : argc > 2 ? static_cast<uint32_t>(argc - 2) : 0;
  return BpfCall(env, argv, nullptr, argv + 2, n + (n & 1));
}

// objInfo(fd, info, nested?): number, the info_len the kernel wrote.
napi_value ObjInfo(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 3);
  int fd;
  SYS_ARG_FD(env, argv[0], "fd", fd);
  uint8_t* buf;
  size_t len;
  SYS_ARG_BYTES(env, argv[1], "info", buf, len);
  if (len > 0xffffffffu) len = 0xffffffffu;
  alignas(8) uint8_t attr[16] = {};
  uint32_t fd32 = static_cast<uint32_t>(fd), len32 = static_cast<uint32_t>(len);
  memcpy(attr, &fd32, 4);
  memcpy(attr + 4, &len32, 4);
  long r = ObjGetInfo(env, attr, buf, len, argv[2], "nested");
  if (r == -2) return nullptr;
  if (r < 0) SYS_THROW_ERRNO(env, errno, "BPF_OBJ_GET_INFO_BY_FD");
  napi_value result;
  napi_create_uint32(env, U32(attr, 4), &result);
  return result;
}

// Describes the table to JS (tests compare it with @ebpf/uapi's layouts).
napi_value FieldsToJs(napi_env env, const Layout& layout) {
  napi_value arr;
  napi_create_array_with_length(env, layout.count, &arr);
  for (unsigned i = 0; i < layout.count; i++) {
    napi_value o, off, name;
    napi_create_object(env, &o);
    napi_create_uint32(env, layout.fields[i].offset, &off);
    napi_create_string_utf8(env, layout.fields[i].name, NAPI_AUTO_LENGTH, &name);
    napi_set_named_property(env, o, "offset", off);
    napi_set_named_property(env, o, "name", name);
    napi_set_element(env, arr, i, o);
  }
  return arr;
}

// pointerFields(cmd, attachType?): [{offset, name}], the pointer fields of a command's attr.
napi_value PointerFields(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 2);
  int64_t cmd;
  SYS_CHECK(ArgInt(env, argv[0], "cmd", 0, kCmdCount - 1, &cmd));
  if (cmd == kCmdLinkCreate) {
    int64_t attachType = -1;
    if (!IsNullish(env, argv[1])) SYS_CHECK(ArgInt(env, argv[1], "attachType", 0, 4294967295.0, &attachType));
    return FieldsToJs(env, LinkCreateLayout(static_cast<uint32_t>(attachType)));
  }
  return FieldsToJs(env, kSpecs[cmd].layout);
}

// attrSize(cmd): bytes of the command's attr known here.
napi_value AttrSize(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 1);
  int64_t cmd;
  SYS_CHECK(ArgInt(env, argv[0], "cmd", 0, kCmdCount - 1, &cmd));
  napi_value r;
  napi_create_uint32(env, kSpecs[cmd].size, &r);
  return r;
}

// infoPointerFields(kind, linkType?, perfType?): pointer fields inside bpf_<kind>_info.
napi_value InfoPointerFields(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 3);
  char kind[8];
  SYS_CHECK(ArgString(env, argv[0], "kind", kind, sizeof kind));
  if (strcmp(kind, "prog") == 0) return FieldsToJs(env, LayoutOf(kPointersProgInfo));
  if (strcmp(kind, "map") == 0) return FieldsToJs(env, LayoutOf(kPointersMapInfo));
  if (strcmp(kind, "btf") == 0) return FieldsToJs(env, LayoutOf(kPointersBtfInfo));
  if (strcmp(kind, "link") == 0) {
    int64_t type = 0, perf = 0;
    SYS_CHECK(ArgInt(env, argv[1], "linkType", 0, kMaxLinkType, &type));
    if (!IsNullish(env, argv[2])) SYS_CHECK(ArgInt(env, argv[2], "perfType", 0, 255, &perf));
    return FieldsToJs(env, LinkInfoOf(static_cast<uint32_t>(type), static_cast<uint32_t>(perf)));
  }
  ThrowRange(env, "kind must be 'prog', 'map', 'link' or 'btf'");
  return nullptr;
}

napi_value CommandName(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 1);
  int64_t cmd;
  SYS_CHECK(ArgInt(env, argv[0], "cmd", 0, 4294967295.0, &cmd));
  napi_value r;
  napi_create_string_utf8(env, BpfCommandName(static_cast<unsigned>(cmd)), NAPI_AUTO_LENGTH, &r);
  return r;
}

// fdKind(fd): 'prog' | 'map' | 'link' | 'btf' | 'perf_event' | 'token' | 'other' | 'closed'
napi_value FdKindJs(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 1);
  int fd;
  SYS_ARG_FD(env, argv[0], "fd", fd);
  const char* s = "other";
  switch (ClassifyFd(fd)) {
    case FdKind::kClosed: s = "closed"; break;
    case FdKind::kOther: s = "other"; break;
    case FdKind::kProg: s = "prog"; break;
    case FdKind::kMap: s = "map"; break;
    case FdKind::kLink: s = "link"; break;
    case FdKind::kBtf: s = "btf"; break;
    case FdKind::kPerfEvent: s = "perf_event"; break;
    case FdKind::kToken: s = "token"; break;
  }
  napi_value r;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r);
  return r;
}

}  // namespace

const char* BpfCommandName(unsigned cmd) {
  static thread_local char buf[24];
  if (cmd < kCmdCount) return kCmdNames[cmd];
  snprintf(buf, sizeof buf, "bpf(%u)", cmd);
  return buf;
}

FdKind ClassifyFd(int fd) {
  char path[40], target[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n < 0) return errno == ENOENT ? FdKind::kClosed : FdKind::kOther;
  target[n] = 0;
  if (strcmp(target, "anon_inode:bpf-map") == 0) return FdKind::kMap;
  if (strcmp(target, "anon_inode:bpf-prog") == 0) return FdKind::kProg;
  if (strcmp(target, "anon_inode:bpf_link") == 0 || strcmp(target, "anon_inode:bpf-link") == 0) return FdKind::kLink;
  if (strcmp(target, "anon_inode:btf") == 0) return FdKind::kBtf;
  if (strcmp(target, "anon_inode:[perf_event]") == 0) return FdKind::kPerfEvent;
  if (strcmp(target, "anon_inode:bpf-token") == 0) return FdKind::kToken;
  return FdKind::kOther;
}

void InitBpf(napi_env env, napi_value exports) {
  Export(env, exports, "bpf", Bpf);
  Export(env, exports, "bpfPairs", BpfPairs);
  Export(env, exports, "objInfo", ObjInfo);
  Export(env, exports, "pointerFields", PointerFields);
  Export(env, exports, "infoPointerFields", InfoPointerFields);
  Export(env, exports, "attrSize", AttrSize);
  Export(env, exports, "commandName", CommandName);
  Export(env, exports, "fdKind", FdKindJs);
  ExportInt(env, exports, "commandCount", kCmdCount);
}

}  // namespace ebpf_sys
