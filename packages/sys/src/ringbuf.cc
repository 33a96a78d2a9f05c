// ringbufDrain: takes the committed records of a BPF ring buffer into memory JS owns, in one call.
//
// The ring is the pair of mappings JS made with mmap() (consumer page, read-write) and
// mmapReadOnlyUnchecked() (producer page, then the data twice so that records wrapping the end
// are contiguous). Every read stays inside those buffers whatever the positions say, and the only
// writes are to the caller's Uint8Array and Uint32Array and to the consumer page.
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "bpf.h"
#include "errors.h"
#include "generated/bpf-rules.generated.h"

namespace ebpf_sys {
namespace {

bool ArgArrayBuffer(napi_env env, napi_value v, const char* name, uint8_t** data, size_t* len) {
  bool is = false;
  void* p = nullptr;
  if (napi_is_arraybuffer(env, v, &is) != napi_ok || !is ||
      napi_get_arraybuffer_info(env, v, &p, len) != napi_ok || p == nullptr) {
    ThrowType(env, "%s must be an ArrayBuffer of a ring buffer mapping", name);
    return false;
  }
  *data = static_cast<uint8_t*>(p);
  return true;
}

// ringbufDrain(consumer, producer, out, spans): copies the committed records from the consumer
// position on (up to a record still being written, BUSY) into `out` as they lie in the ring,
// headers and discarded records included, as many as fit in `out` and in `spans` (two words per
// record kept: its offset in `out` and its length; discarded records get none), then publishes
// the new consumer position (a release store) once. Returns the number of records in `spans`, or
// minus the bytes `out` needs when the first record alone does not fit.
napi_value RingbufDrain(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 4);
  uint8_t *consumer, *producer, *out;
  size_t consumerLen, producerLen, outLen;
  SYS_CHECK(ArgArrayBuffer(env, argv[0], "consumer", &consumer, &consumerLen));
  SYS_CHECK(ArgArrayBuffer(env, argv[1], "producer", &producer, &producerLen));
  SYS_CHECK(FastBytes(env, argv[2], "out", &out, &outLen));
  napi_typedarray_type type;
  size_t spanWords = 0;
  void* spansData = nullptr;
  if (napi_get_typedarray_info(env, argv[3], &type, &spanWords, &spansData, nullptr, nullptr) != napi_ok ||
      type != napi_uint32_array) {
    ThrowType(env, "spans must be a Uint32Array");
    return nullptr;
  }
  auto* spans = static_cast<uint32_t*>(spansData);
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t size = producerLen > page ? (producerLen - page) / 2 : 0;
  if (consumerLen < sizeof(uint64_t) || size < page || (size & (size - 1)) != 0 ||
      producerLen != page + 2 * size) {
    ThrowRange(env,
               "consumer must be the ring's consumer page and producer its producer page and data "
               "mapped twice (1 + 2 * 2^n pages), got %zu and %zu bytes",
               consumerLen, producerLen);
    return nullptr;
  }
  auto* consPos = reinterpret_cast<uint64_t*>(consumer);
  const uint8_t* data = producer + page;
  uint64_t cons = __atomic_load_n(consPos, __ATOMIC_RELAXED);  // ours: we are its only writer
  uint64_t prod = __atomic_load_n(reinterpret_cast<const uint64_t*>(producer), __ATOMIC_ACQUIRE);
  uint64_t available = prod - cons;
  if (available > size) {
    ThrowRange(env, "the consumer position (%llu) is not within the ring's data (producer at %llu)",
               static_cast<unsigned long long>(cons), static_cast<unsigned long long>(prod));
    return nullptr;
  }
  size_t from = static_cast<size_t>(cons & (size - 1));
  size_t taken = 0, count = 0, room = spanWords / 2;
  while (taken < available && count < room) {
    // `from + taken` < 2 * size: the header lies in the second copy at the latest.
    uint32_t len = __atomic_load_n(reinterpret_cast<const uint32_t*>(data + from + taken), __ATOMIC_ACQUIRE);
    if (len & kRingbufBusyBit) break;
    size_t length = len & ~(kRingbufBusyBit | kRingbufDiscardBit);
    size_t step = (length + kRingbufHdrSz + 7) & ~static_cast<size_t>(7);
    if (step > available - taken) break;  // not a header the kernel wrote: take nothing more
    if (taken + step > outLen) {
      if (taken > 0) break;
      napi_value needed;
      napi_create_double(env, -static_cast<double>(step), &needed);
      return needed;
    }
    if (!(len & kRingbufDiscardBit)) {
      spans[2 * count] = static_cast<uint32_t>(taken + kRingbufHdrSz);
      spans[2 * count + 1] = static_cast<uint32_t>(length);
      count++;
    }
    taken += step;
  }
  if (taken > 0) {
    memcpy(out, data + from, taken);  // taken <= available <= size: inside the two copies
    __atomic_store_n(consPos, cons + taken, __ATOMIC_RELEASE);
  }
  napi_value result;
  napi_create_uint32(env, static_cast<uint32_t>(count), &result);
  return result;
}

}  // namespace

void InitRingbuf(napi_env env, napi_value exports) {
  Export(env, exports, "ringbufDrain", RingbufDrain);
}

}  // namespace ebpf_sys
