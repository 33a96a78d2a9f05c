// Bound calls: native functions that carry their own memory, so a hot call passes no argument.
//
// Every argument crossing Node-API costs a call (a typed array's data pointer ~22 ns on the bench
// machine, about what the rest of a call costs), so the test runner and the map accessors keep
// their inputs and outputs in one ArrayBuffer they own and JS writes into. Native holds that
// buffer strongly for as long as the bound function lives, and takes its address from the buffer
// on every call: memory that was detached since (transferred away, so possibly freed) has no data
// and the call throws instead of reaching the kernel. Where each region sits is native state that
// JS cannot reach, so no value JS writes into the memory can point the kernel anywhere else.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>

namespace ebpf_sys {

struct BoundMemory {
  napi_ref buffer = nullptr;  // strong while the bound function lives
  size_t size = 0;
};

// Creates a zero-filled ArrayBuffer of `size` bytes and the strong reference to it.
bool CreateBoundMemory(napi_env env, size_t size, BoundMemory* memory, napi_value* buffer);

// The memory's address for this call, or nullptr after throwing (detached, or shrunk).
uint8_t* BoundBase(napi_env env, const BoundMemory& memory, const char* what);

// Drops the strong reference (from the bound function's finalizer).
void ReleaseBoundMemory(napi_env env, BoundMemory* memory);

// A function `name` calling `cb` with `state` as its data; `release(env, state, nullptr)` runs
// when the function is collected. On failure nothing was created and `state` is still the
// caller's.
bool CreateBoundFunction(napi_env env, const char* name, napi_callback cb, void* state,
                         napi_finalize release, napi_value* fn);

// The state a bound function was created with.
inline void* BoundState(napi_env env, napi_callback_info info) {
  void* state = nullptr;
  napi_get_cb_info(env, info, nullptr, nullptr, nullptr, &state);
  return state;
}

}  // namespace ebpf_sys
