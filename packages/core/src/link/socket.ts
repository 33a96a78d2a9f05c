import * as sys from '@ebpf/sys';
import { ProgType } from '@ebpf/uapi';
import { InvalidArgumentError, translateSysError } from '../errors.ts';
import type { TypedProgram } from './link.ts';

/**
 * A socket to filter: a Node `dgram.Socket` (bound) or `net.Socket` / `net.Server` (connected or
 * listening), anything with a numeric `fd`, or a raw socket fd.
 */
export type SocketLike = number | { readonly fd: number } | object;

/** A socket filter attached with `attachSocket`; `detach()` (or `using`) removes it. */
export interface SocketAttachment extends Disposable {
  /** The socket fd the filter is attached to. */
  readonly socketFd: number;
  /** Removes the filter from the socket (`SO_DETACH_BPF`). Detaching twice is a no-op. */
  detach(): void;
}

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
  if (program.type !== ProgType.SocketFilter) {
    throw new InvalidArgumentError(
      `attachSocket needs a socket_filter program, got program type ${program.type}`,
    );
  }
  const fd = socketFd(socket);
  const progFd = program.fd;
  try {
    sys.attachSocketFilter(fd, progFd);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOTSOCK' || code === 'EBADF') {
      throw new InvalidArgumentError(
        `socket fd ${fd} is ${code === 'EBADF' ? 'not an open file descriptor' : 'not a socket'}: pass a Node dgram/net socket or a socket fd`,
        { cause: error, code },
      );
    }
    throw translateSysError(error, `attaching a socket filter to socket fd ${fd}`);
  }
  let attached = true;
  return {
    socketFd: fd,
    detach() {
      if (!attached) return;
      attached = false;
      detachSocketFd(fd, true);
    },
    [Symbol.dispose]() {
      this.detach();
    },
  };
}

/** Removes the socket filter from a socket (`SO_DETACH_BPF`); false when it had none. */
export function detachSocket(socket: SocketLike): boolean {
  return detachSocketFd(socketFd(socket), false);
}

function detachSocketFd(fd: number, quiet: boolean): boolean {
  try {
    sys.detachSocketFilter(fd);
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    // ENOENT: no filter attached. EBADF/ENOTSOCK after the socket was closed: nothing to detach.
    if (code === 'ENOENT' || (quiet && (code === 'EBADF' || code === 'ENOTSOCK'))) return false;
    throw translateSysError(error, `detaching the socket filter of socket fd ${fd}`);
  }
}
