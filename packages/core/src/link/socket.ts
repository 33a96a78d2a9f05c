import * as sys from '@ebpf/sys';
import { ProgType } from '@ebpf/uapi';
import { InvalidArgumentError } from '../errors.ts';
import { requireProgramType, type TypedProgram } from './link.ts';
import {
  attachToSocket,
  detachFromSocket,
  type SocketAttachment,
  type SocketHook,
} from './socket-attachment.ts';

export type { SocketAttachment } from './socket-attachment.ts';

/**
 * A socket to filter: a Node `dgram.Socket` (bound) or `net.Socket` / `net.Server` (connected or
 * listening), anything with a numeric `fd`, or a raw socket fd.
 */
export type SocketLike = number | { readonly fd: number } | object;

/**
 * The fd of a socket given as a number, an object with an `fd`, or a Node socket (read from its
 * libuv handle, which exists once a dgram socket is bound or a net socket connected/listening).
 */
export function socketFd(socket: SocketLike): number {
  let fd: unknown = socket;
  if (typeof socket === 'object' && socket !== null) {
    const withFd = socket as { fd?: unknown };
    fd = typeof withFd.fd === 'number' ? withFd.fd : handleOf(socket)?.fd;
    if (fd === undefined || fd === null || (typeof fd === 'number' && fd < 0)) {
      throw new InvalidArgumentError(
        'socket has no file descriptor yet: bind a dgram socket (or connect/listen a net socket) before attaching',
      );
    }
  }
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    throw new InvalidArgumentError(
      `socket must be a socket fd, a Node socket or an object with an fd, got ${String(fd)}`,
    );
  }
  return fd;
}

/**
 * The libuv handle of a Node socket: a `dgram.Socket` keeps it in its internal state (its
 * `_handle` getter is deprecated, DEP0112), a `net.Socket` under its `kHandle` symbol (behind the
 * `_handle` getter), a `net.Server` in `_handle`.
 */
function handleOf(socket: object): { fd?: unknown } | undefined {
  const record = socket as Record<symbol | string, unknown>;
  for (const symbol of Object.getOwnPropertySymbols(socket)) {
    if (symbol.description === 'state symbol') {
      const state = record[symbol] as { handle?: { fd?: unknown } | null } | undefined;
      if (state && typeof state === 'object' && 'handle' in state) return state.handle ?? undefined;
    }
    if (symbol.description === 'kHandle') return (record[symbol] as { fd?: unknown } | null) ?? undefined;
  }
  return (record._handle as { fd?: unknown } | null | undefined) ?? undefined;
}

/**
 * Attaches a socket filter program to a socket (`SO_ATTACH_BPF`): the program sees every packet
 * the socket receives and returns how many bytes of it to keep (0 drops it). The socket holds
 * the program; closing the program's object does not detach it. Replaces a filter attached before.
 */
export function attachSocket(program: TypedProgram, socket: SocketLike): SocketAttachment {
  requireProgramType(program, 'attachSocket', ProgType.SocketFilter);
  return attachToSocket(filterHook, socketFd(socket), program.fd);
}

const filterHook: SocketHook = {
  what: 'a socket filter',
  attach: sys.attachSocketFilter,
  detach: sys.detachSocketFilter,
};

/** Removes the socket filter from a socket (`SO_DETACH_BPF`); false when it had none. */
export function detachSocket(socket: SocketLike): boolean {
  return detachFromSocket(filterHook, socketFd(socket), false);
}
