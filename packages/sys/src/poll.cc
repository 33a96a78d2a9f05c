// FdWatcher: readiness of an fd on Node's event loop through libuv's uv_poll (epoll), no threads.
//
//   const w = new FdWatcher(fd, (error) => { ... });  w.start(); w.stop(); w.unref(); w.close();
//
// A started watcher keeps the loop alive (unless unref'd) and its JS object reachable; a stopped
// one does neither. The fd's identity (device, inode) is recorded at construction and checked by
// start(), because libuv aborts the process if asked to poll an fd that was closed and reused by
// something epoll refuses. close() of @ebpf/sys refuses fds a live watcher holds.
#include <errno.h>
#include <sys/stat.h>
#include <uv.h>

#include <mutex>
#include <unordered_map>

#define NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS
#include <napi.h>

#include "bpf.h"
#include "errors.h"

namespace ebpf_sys {
namespace {

std::mutex watchedLock;
std::unordered_map<int, int>& Watched() {
  static auto* watched = new std::unordered_map<int, int>();
  return *watched;
}

void AddWatched(int fd) {
  std::lock_guard<std::mutex> lock(watchedLock);
  Watched()[fd]++;
}

void RemoveWatched(int fd) {
  std::lock_guard<std::mutex> lock(watchedLock);
  auto it = Watched().find(fd);
  if (it != Watched().end() && --it->second == 0) Watched().erase(it);
}

class FdWatcher : public Napi::ObjectWrap<FdWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FdWatcher",
                       {
                           InstanceMethod<&FdWatcher::Start>("start"),
                           InstanceMethod<&FdWatcher::Stop>("stop"),
                           InstanceMethod<&FdWatcher::Close>("close"),
                           InstanceMethod<&FdWatcher::RefJs>("ref"),
                           InstanceMethod<&FdWatcher::UnrefJs>("unref"),
                           InstanceAccessor<&FdWatcher::Active>("active"),
                           InstanceAccessor<&FdWatcher::FdJs>("fd"),
                       });
  }

  explicit FdWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdWatcher>(info) {
    napi_env env = info.Env();
    napi_value fdArg = info.Length() > 0 ? static_cast<napi_value>(info[0]) : info.Env().Undefined();
    napi_value cbArg = info.Length() > 1 ? static_cast<napi_value>(info[1]) : info.Env().Undefined();
    if (!ArgFd(env, fdArg, "fd", &fd_)) return;
    if (!ArgFunction(env, cbArg, "onReadable")) return;
    struct stat st;
    if (fstat(fd_, &st) < 0) {
      ThrowSys(env, errno, "fstat");
      return;
    }
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) return;
    handle_ = new uv_poll_t();
    int err = uv_poll_init(loop, handle_, fd_);
    if (err != 0) {
      delete handle_;
      handle_ = nullptr;
      ThrowSys(env, -err, "uv_poll_init");
      return;
    }
    handle_->data = this;
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    AddWatched(fd_);
    napi_add_env_cleanup_hook(env, CleanupHook, this);
    hooked_ = true;
  }

  ~FdWatcher() override { Release(); }

 private:
  static void CleanupHook(void* arg) {
    auto* self = static_cast<FdWatcher*>(arg);
    self->hooked_ = false;  // the hook is being removed by the runtime itself
    self->Release();
  }

  // Stops polling and closes the uv handle (freed in its close callback). Idempotent.
  void Release() {
    if (handle_ == nullptr) return;
    if (hooked_) {
      napi_remove_env_cleanup_hook(Env(), CleanupHook, this);
      hooked_ = false;
    }
    if (active_) uv_poll_stop(handle_);
    active_ = false;
    handle_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    handle_ = nullptr;
    RemoveWatched(fd_);
  }

  bool CheckOpen(Napi::Env env) {
    if (handle_ == nullptr) {
      Napi::TypeError::New(env, "FdWatcher is closed").ThrowAsJavaScriptException();
      return false;
    }
    return true;
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    if (active_) return env.Undefined();
    struct stat st;
    if (fstat(fd_, &st) < 0 || st.st_dev != dev_ || st.st_ino != ino_) {
      ThrowSys(env, EBADF, "uv_poll_start");
      return env.Undefined();
    }
    int err = uv_poll_start(handle_, UV_READABLE, OnPoll);
    if (err != 0) {
      ThrowSys(env, -err, "uv_poll_start");
      return env.Undefined();
    }
    active_ = true;
    Ref();  // keeps the JS object (and so this) alive while polling
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (handle_ != nullptr && active_) {
      uv_poll_stop(handle_);
      active_ = false;
      Unref();
    }
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (active_) Unref();
    Release();
    callback_.Reset();
    return info.Env().Undefined();
  }

  Napi::Value RefJs(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.This();
  }

  Napi::Value UnrefJs(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.This();
  }

  Napi::Value Active(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), active_); }
  Napi::Value FdJs(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<FdWatcher*>(handle->data);
    if (self == nullptr || self->callback_.IsEmpty()) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    // `recv` keeps the JS object alive through the callback, whatever the callback does.
    Napi::Object recv = self->Value();
    napi_value arg;
    if (status < 0) {
      arg = CreateSysError(env, -status, "uv_poll");
      // An error stops the watcher: epoll would report it again at once.
      uv_poll_stop(handle);
      self->active_ = false;
      self->Unref();
    } else {
      napi_get_null(env, &arg);
    }
    self->callback_.MakeCallback(recv, {arg});
    if (env.IsExceptionPending()) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
  }

  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  uv_poll_t* handle_ = nullptr;
  bool active_ = false;
  bool hooked_ = false;
  Napi::FunctionReference callback_;
};

}  // namespace

bool FdWatched(int fd) {
  std::lock_guard<std::mutex> lock(watchedLock);
  return Watched().count(fd) != 0;
}

void InitPoll(napi_env env, napi_value exports) {
  Napi::Env e(env);
  Napi::Object(env, exports).Set("FdWatcher", FdWatcher::Define(e));
}

}  // namespace ebpf_sys
