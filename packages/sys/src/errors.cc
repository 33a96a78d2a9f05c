// Argument checks and the one way errors leave the addon.
#include "errors.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace ebpf_sys {

namespace {

void ThrowFormatted(napi_env env, bool range, const char* fmt, va_list ap) {
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (range)
    napi_throw_range_error(env, nullptr, msg);
  else
    napi_throw_type_error(env, nullptr, msg);
}

const char* TypeName(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return "unknown";
  switch (t) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: return "a number";
    case napi_string: return "a string";
    case napi_symbol: return "a symbol";
    case napi_function: return "a function";
    case napi_bigint: return "a bigint";
    case napi_external: return "an external";
    case napi_object: {
      bool is = false;
      if (napi_is_typedarray(env, v, &is) == napi_ok && is) return "a typed array of another type";
      if (napi_is_arraybuffer(env, v, &is) == napi_ok && is) return "an ArrayBuffer";
      if (napi_is_dataview(env, v, &is) == napi_ok && is) return "a DataView";
      if (napi_is_array(env, v, &is) == napi_ok && is) return "an array";
      return "an object";
    }
  }
  return "unknown";
}

}  // namespace

void ThrowType(napi_env env, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ThrowFormatted(env, false, fmt, ap);
  va_end(ap);
}

void ThrowRange(napi_env env, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ThrowFormatted(env, true, fmt, ap);
  va_end(ap);
}

napi_value CreateSysError(napi_env env, int err, const char* command) {
  AddonData* data = nullptr;
  napi_get_instance_data(env, reinterpret_cast<void**>(&data));
  napi_value ctor = nullptr;
  if (data != nullptr && data->sysErrorClass != nullptr) {
    napi_get_reference_value(env, data->sysErrorClass, &ctor);
  }
  napi_value args[2];
  napi_create_int32(env, err, &args[0]);
  napi_create_string_utf8(env, command, NAPI_AUTO_LENGTH, &args[1]);
  napi_value error = nullptr;
  if (ctor != nullptr && napi_new_instance(env, ctor, 2, args, &error) == napi_ok) return error;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
  char msg[256];
  snprintf(msg, sizeof msg, "%s failed: %s (errno %d)", command, strerror(err), err);
  napi_value text;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, nullptr, text, &error);
  napi_set_named_property(env, error, "errno", args[0]);
  napi_set_named_property(env, error, "command", args[1]);
  return error;
}

void ThrowSys(napi_env env, int err, const char* command) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  napi_throw(env, CreateSysError(env, err, command));
}

bool IsNullish(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined);
}

bool ArgInt(napi_env env, napi_value v, const char* name, double min, double max, int64_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    ThrowType(env, "%s must be an integer, got %s", name, TypeName(env, v));
    return false;
  }
  if (!std::isfinite(d) || std::floor(d) != d) {
    ThrowRange(env, "%s must be an integer, got %g", name, d);
    return false;
  }
  if (d < min || d > max) {
    ThrowRange(env, "%s must be an integer in [%.0f, %.0f], got %.0f", name, min, max, d);
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

bool ArgFd(napi_env env, napi_value v, const char* name, int* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    ThrowType(env, "%s must be a file descriptor (a non-negative integer), got %s", name,
              TypeName(env, v));
    return false;
  }
  if (!(d >= 0 && d <= 2147483647.0) || std::floor(d) != d) {
    ThrowRange(env, "%s must be a file descriptor (a non-negative integer), got %g", name, d);
    return false;
  }
  *out = static_cast<int>(d);
  return true;
}

bool ArgFlags(napi_env env, napi_value v, const char* name, uint64_t* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) == napi_ok && t == napi_undefined) {
    *out = 0;
    return true;
  }
  int64_t i;
  if (!ArgInt(env, v, name, 0, 9007199254740991.0, &i)) return false;
  *out = static_cast<uint64_t>(i);
  return true;
}

bool ArgBytes(napi_env env, napi_value v, const char* name, uint8_t** data, size_t* len) {
  napi_typedarray_type type;
  void* p = nullptr;
  size_t n = 0;
  if (napi_get_typedarray_info(env, v, &type, &n, &p, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    ThrowType(env, "%s must be a Uint8Array, got %s", name, TypeName(env, v));
    return false;
  }
  *data = static_cast<uint8_t*>(p);
  *len = n;
  return true;
}

bool ArgBool(napi_env env, napi_value v, const char* name, bool* out) {
  if (napi_get_value_bool(env, v, out) != napi_ok) {
    ThrowType(env, "%s must be a boolean, got %s", name, TypeName(env, v));
    return false;
  }
  return true;
}

bool ArgString(napi_env env, napi_value v, const char* name, char* buf, size_t cap) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) {
    ThrowType(env, "%s must be a string, got %s", name, TypeName(env, v));
    return false;
  }
  if (len + 1 > cap) {
    ThrowRange(env, "%s must be at most %zu bytes long, got %zu", name, cap - 1, len);
    return false;
  }
  napi_get_value_string_utf8(env, v, buf, cap, &len);
  if (strlen(buf) != len) {
    ThrowRange(env, "%s must not contain a NUL character", name);
    return false;
  }
  return true;
}

bool ArgFunction(napi_env env, napi_value v, const char* name) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_function) {
    ThrowType(env, "%s must be a function, got %s", name, TypeName(env, v));
    return false;
  }
  return true;
}

void Export(napi_env env, napi_value exports, const char* name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn);
  napi_set_named_property(env, exports, name, fn);
}

void ExportInt(napi_env env, napi_value exports, const char* name, int64_t value) {
  napi_value v;
  napi_create_int64(env, value, &v);
  napi_set_named_property(env, exports, name, v);
}

}  // namespace ebpf_sys
