import * as sys from '@ebpf/sys';
import { ProgType } from '@ebpf/uapi';
import { requireProgramType, type TypedProgram } from './link.ts';
import { type SocketLike, socketFd } from './socket.ts';
import { attachToSocket, type SocketAttachment, type SocketHook } from './socket-attachment.ts';

/** A `sk_reuseport` program on a SO_REUSEPORT group; `detach()` (or `using`) removes it. */
export type ReuseportAttachment = SocketAttachment;

const reuseportHook: SocketHook = {
  what: 'a reuseport program',
  attach: sys.attachReuseport,
  detach: sys.detachReuseport,
  explain: (code, fd) =>
    code === 'EINVAL'
      ? `socket fd ${fd} is in no SO_REUSEPORT group: set SO_REUSEPORT on it before binding (EINVAL)`
      : undefined,
};

/**
 * Attaches a `sk_reuseport` program to the SO_REUSEPORT group of `socket`
 * (`SO_ATTACH_REUSEPORT_EBPF`): for each incoming packet it picks the group's socket (with
 * `bpf_sk_select_reuseport`) or leaves the choice to the kernel. The group holds the program.
 */
export function attachReuseport(program: TypedProgram, socket: SocketLike): ReuseportAttachment {
  requireProgramType(program, 'attachReuseport', ProgType.SkReuseport);
  return attachToSocket(reuseportHook, socketFd(socket), program.fd);
}
