// Bound calls: see bound.h.
#include "bound.h"

#include "errors.h"

namespace ebpf_sys {

bool CreateBoundMemory(napi_env env, size_t size, BoundMemory* memory, napi_value* buffer) {
  void* data;
  if (napi_create_arraybuffer(env, size, &data, buffer) != napi_ok) return false;
  if (napi_create_reference(env, *buffer, 1, &memory->buffer) != napi_ok) return false;
  memory->size = size;
  return true;
}

uint8_t* BoundBase(napi_env env, const BoundMemory& memory, const char* what) {
  napi_value buffer;
  void* data = nullptr;
  size_t length = 0;
  if (napi_get_reference_value(env, memory.buffer, &buffer) != napi_ok ||
      napi_get_arraybuffer_info(env, buffer, &data, &length) != napi_ok || data == nullptr ||
      length < memory.size) {
    ThrowType(env, "the %s's memory was detached; make a new one", what);
    return nullptr;
  }
  return static_cast<uint8_t*>(data);
}

void ReleaseBoundMemory(napi_env env, BoundMemory* memory) {
  if (memory->buffer != nullptr) napi_delete_reference(env, memory->buffer);
  memory->buffer = nullptr;
}

bool CreateBoundFunction(napi_env env, const char* name, napi_callback cb, void* state,
                         napi_finalize release, napi_value* fn) {
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, state, fn) == napi_ok &&
         napi_add_finalizer(env, *fn, state, release, nullptr, nullptr) == napi_ok;
}

}  // namespace ebpf_sys
