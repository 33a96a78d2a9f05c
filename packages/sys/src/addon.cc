// Module entry: per-environment data and the exports of every file.
#include <node_api.h>

#include "bpf.h"
#include "errors.h"

namespace ebpf_sys {
namespace {

void FreeAddonData(napi_env env, void* data, void*) {
  auto* d = static_cast<AddonData*>(data);
  if (d->sysErrorClass != nullptr) napi_delete_reference(env, d->sysErrorClass);
  delete d;
}

// setErrorClass(SysError): the constructor native errors are built with, new SysError(errno, command).
napi_value SetErrorClass(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 1);
  SYS_CHECK(ArgFunction(env, argv[0], "errorClass"));
  AddonData* d = nullptr;
  napi_get_instance_data(env, reinterpret_cast<void**>(&d));
  if (d->sysErrorClass != nullptr) napi_delete_reference(env, d->sysErrorClass);
  napi_create_reference(env, argv[0], 1, &d->sysErrorClass);
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  auto* d = new AddonData();
  napi_set_instance_data(env, d, FreeAddonData, nullptr);
  Export(env, exports, "setErrorClass", SetErrorClass);
  ExportInt(env, exports, "napiVersion", NAPI_VERSION);
  InitBpf(env, exports);
  InitMaps(env, exports);
  InitTestRun(env, exports);
  InitMmap(env, exports);
  InitRingbuf(env, exports);
  InitPerf(env, exports);
  InitPoll(env, exports);
  InitSocket(env, exports);
  InitLimits(env, exports);
  return exports;
}

}  // namespace
}  // namespace ebpf_sys

NAPI_MODULE(NODE_GYP_MODULE_NAME, ebpf_sys::Init)
