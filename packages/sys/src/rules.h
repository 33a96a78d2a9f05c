// The shape of bpf.cc's pointer rules; the rules themselves are generated into
// generated/bpf-rules.generated.h from the same tables as @ebpf/uapi (codegen/src/native-tables.ts).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ebpf_sys {

// How the length behind a pointer field is bounded (codegen's PointerRule).
enum class Rule : uint8_t {
  kLen,          // buffer >= u32 at `a` * mult
  kLenNonZero,   // as kLen, and the u32 at `a` must not be 0 (the kernel would not bound it)
  kCountRecord,  // buffer >= u32 at `a` (count) * max(u32 at `b` (record size), mult)
  kString,       // a NUL within the buffer (the kernel reads a C string)
  kMapKey,       // buffer >= the map's key size
  kMapValue,     // buffer >= the map's value size (per CPU for per-CPU maps)
  kBatchToken,   // buffer >= max(key size, 4): hash maps use a u32 bucket, others a key
  kBatchKeys,    // buffer >= u32 at `a` (count) * key size
  kBatchValues,  // buffer >= u32 at `a` (count) * value size
  kFdArray,      // BPF_PROG_LOAD's fd_array: every index the instructions use, and fd_array_cnt
  kInfo,         // BPF_OBJ_GET_INFO_BY_FD's info: handled with its nested pointers
  kStringArray,  // an array of u32 at `a` C strings (kprobe_multi.syms): given as the names back to
                 // back, each NUL-terminated; native builds the array of pointers into its copy
};

struct Field {
  uint16_t offset;
  Rule rule;
  uint16_t a;
  uint16_t b;
  uint32_t mult;
  const char* name;
};

struct Layout {
  const Field* fields;
  uint8_t count;
};

struct CmdSpec {
  uint16_t size;     // bytes of the command's attr known here
  uint16_t mapFdAt;  // offset of the map fd for map-derived sizes, or kNoMap
  Layout layout;     // pointer fields (LINK_CREATE: chosen per attach type)
  bool returnsFd;    // the result is a new fd
};

constexpr Layout kNoPointers{nullptr, 0};
constexpr uint16_t kNoMap = 0xffff;

template <size_t N>
constexpr Layout LayoutOf(const Field (&fields)[N]) {
  return Layout{fields, static_cast<uint8_t>(N)};
}

}  // namespace ebpf_sys
