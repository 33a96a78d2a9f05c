// The bpf() syscall, the per-fd map size cache, and fd kinds, shared by the addon's files.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>

namespace ebpf_sys {

// bpf(2) without libc wrappers. Returns -1 and sets errno on failure.
long SysBpf(int cmd, void* attr, unsigned size);

// Name of a bpf command for errors ("BPF_MAP_CREATE"), or "bpf(<n>)" for unknown ones.
const char* BpfCommandName(unsigned cmd);

// --- map size cache -------------------------------------------------------------------------
// What a map-derived pointer needs: the key size and the size the kernel copies for one value
// (per-CPU maps: round_up(value_size, 8) * possible CPUs; fd maps: at least 4).
struct MapSizes {
  uint32_t type;
  uint32_t keySize;
  uint32_t valueSize;
};

// The head of struct bpf_map_info, as the kernel reports it for a map fd.
struct MapInfoHead {
  uint32_t type;
  uint32_t keySize;
  uint32_t valueSize;
  uint32_t flags;
};
// BPF_OBJ_GET_INFO_BY_FD of a map fd. Returns 0 or an errno.
int QueryMapInfo(int fd, MapInfoHead* out);

// Reads the cache without a lock. False when fd has no entry.
bool CacheGet(int fd, MapSizes* out);
// Throws a TypeError naming the argument when fd has no entry.
bool CacheGetOrThrow(napi_env env, int fd, const char* what, MapSizes* out);
void CacheErase(int fd);
// Fills the entry of fd with the kernel's type and sizes of a map (per-CPU and fd-map value
// sizes derived here). False when the sizes do not fit an entry or fd is out of range.
bool CachePut(int fd, uint32_t type, uint32_t keySize, uint32_t valueSize);
// Queries BPF_OBJ_GET_INFO_BY_FD and fills the cache; clears the entry of an fd that is not a
// map or cannot be asked. Returns 0 or an errno (EINVAL: not a map, EBADF: closed).
int CacheAdopt(int fd);
// Number of possible CPUs (from /sys/devices/system/cpu/possible, read once).
unsigned PossibleCpus();

// --- fd kinds -------------------------------------------------------------------------------
enum class FdKind { kClosed, kOther, kProg, kMap, kLink, kBtf, kPerfEvent, kToken };
// Classifies fd by its /proc/self/fd link target (anon_inode:bpf-map, ...).
FdKind ClassifyFd(int fd);

// FdWatcher bookkeeping: close() refuses fds that an FdWatcher still watches.
bool FdWatched(int fd);

// Registration of each file's exports.
void InitBpf(napi_env env, napi_value exports);
void InitMaps(napi_env env, napi_value exports);
void InitTestRun(napi_env env, napi_value exports);
void InitMmap(napi_env env, napi_value exports);
void InitRingbuf(napi_env env, napi_value exports);
void InitPerf(napi_env env, napi_value exports);
void InitPoll(napi_env env, napi_value exports);
void InitSocket(napi_env env, napi_value exports);
void InitLimits(napi_env env, napi_value exports);

}  // namespace ebpf_sys
