// Socket filters (SO_ATTACH_BPF / SO_DETACH_BPF), reuseport programs and their sockets, and
// if_nametoindex(3).
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bpf.h"
#include "errors.h"

#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif
#ifndef SO_DETACH_BPF
#define SO_DETACH_BPF SO_DETACH_FILTER
#endif
#ifndef SO_ATTACH_REUSEPORT_EBPF
#define SO_ATTACH_REUSEPORT_EBPF 52
#endif
#ifndef SO_DETACH_REUSEPORT_BPF
#define SO_DETACH_REUSEPORT_BPF 68
#endif

namespace ebpf_sys {
namespace {

// setsockopt(socketFd, SOL_SOCKET, option, &progFd): hands a program to a socket.
napi_value AttachToSocket(napi_env env, napi_callback_info info, int option, const char *what) {
  SYS_ARGS(env, info, 2);
  int sock, prog;
  SYS_ARG_FD(env, argv[0], "socketFd", sock);
  SYS_ARG_FD(env, argv[1], "progFd", prog);
  if (setsockopt(sock, SOL_SOCKET, option, &prog, sizeof prog) < 0) SYS_THROW_ERRNO(env, errno, what);
  return nullptr;
}

// setsockopt(socketFd, SOL_SOCKET, option, &0): takes the socket's program away.
napi_value DetachFromSocket(napi_env env, napi_callback_info info, int option, const char *what) {
  SYS_ARGS(env, info, 1);
  int sock;
  SYS_ARG_FD(env, argv[0], "socketFd", sock);
  int unused = 0;
  if (setsockopt(sock, SOL_SOCKET, option, &unused, sizeof unused) < 0) SYS_THROW_ERRNO(env, errno, what);
  return nullptr;
}

// attachSocketFilter(socketFd, progFd) / detachSocketFilter(socketFd): SO_ATTACH_BPF, SO_DETACH_BPF.
napi_value AttachSocketFilter(napi_env env, napi_callback_info info) {
  return AttachToSocket(env, info, SO_ATTACH_BPF, "setsockopt(SO_ATTACH_BPF)");
}
napi_value DetachSocketFilter(napi_env env, napi_callback_info info) {
  return DetachFromSocket(env, info, SO_DETACH_BPF, "setsockopt(SO_DETACH_BPF)");
}

// attachReuseport(socketFd, progFd) / detachReuseport(socketFd): the program picks the socket of
// the SO_REUSEPORT group for each incoming packet.
napi_value AttachReuseport(napi_env env, napi_callback_info info) {
  return AttachToSocket(env, info, SO_ATTACH_REUSEPORT_EBPF, "setsockopt(SO_ATTACH_REUSEPORT_EBPF)");
}
napi_value DetachReuseport(napi_env env, napi_callback_info info) {
  return DetachFromSocket(env, info, SO_DETACH_REUSEPORT_BPF, "setsockopt(SO_DETACH_REUSEPORT_BPF)");
}

// reuseportSocket(stream, port): a loopback socket with SO_REUSEPORT, bound to 127.0.0.1:port
// (and listening, for a stream socket), so several of them form one SO_REUSEPORT group. Node's
// own sockets set no SO_REUSEPORT before they bind, so they cannot join a group.
napi_value ReuseportSocket(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 2);
  bool stream;
  int64_t port;
  SYS_CHECK(ArgBool(env, argv[0], "stream", &stream));
  SYS_CHECK(ArgInt(env, argv[1], "port", 0, 65535, &port));
  int fd = socket(AF_INET, (stream ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) SYS_THROW_ERRNO(env, errno, "socket");
  int on = 1;
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const char *what = nullptr;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0) what = "setsockopt(SO_REUSEPORT)";
  else if (bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0) what = "bind";
  else if (stream && listen(fd, 16) < 0) what = "listen";
  if (what != nullptr) {
    int err = errno;
    close(fd);
    SYS_THROW_ERRNO(env, err, what);
  }
  napi_value r;
  napi_create_int32(env, fd, &r);
  return r;
}

// ifNameToIndex(name): the interface's index; throws SysError ENODEV when there is none.
napi_value IfNameToIndex(napi_env env, napi_callback_info info) {
  SYS_ARGS(env, info, 1);
  char name[IF_NAMESIZE];
  SYS_CHECK(ArgString(env, argv[0], "name", name, sizeof name));
  if (name[0] == 0) {
    ThrowRange(env, "name must not be empty");
    return nullptr;
  }
  errno = 0;
  unsigned index = if_nametoindex(name);
  if (index == 0) SYS_THROW_ERRNO(env, errno != 0 ? errno : ENODEV, "if_nametoindex");
  napi_value r;
  napi_create_uint32(env, index, &r);
  return r;
}

}  // namespace

void InitSocket(napi_env env, napi_value exports) {
  Export(env, exports, "attachSocketFilter", AttachSocketFilter);
  Export(env, exports, "detachSocketFilter", DetachSocketFilter);
  Export(env, exports, "attachReuseport", AttachReuseport);
  Export(env, exports, "detachReuseport", DetachReuseport);
  Export(env, exports, "reuseportSocket", ReuseportSocket);
  Export(env, exports, "ifNameToIndex", IfNameToIndex);
}

}  // namespace ebpf_sys
