import { InvalidArgumentError, translateSysError } from '../errors.ts';
import { type Attachment, detachOnce } from './attachment.ts';

/**
 * What attaching a program through a socket option returns (a socket filter, a reuseport
 * group's selector): the socket holds the program, `detach()` (or `using`) removes it.
 */
export interface SocketAttachment extends Attachment {
  /** The socket fd the program is attached to (or, for a reuseport group, through). */
  readonly socketFd: number;
  /** Removes the program from the socket. Detaching twice, or after the socket closed, is a no-op. */
  detach(): void;
}

/** One socket option pair that attaches and detaches a program. */
export interface SocketHook {
  /** What is attached, for errors: 'a socket filter'. */
  readonly what: string;
  attach(fd: number, progFd: number): void;
  detach(fd: number): void;
  /** What an errno means for this hook beyond the common ones, or undefined. */
  explain?(code: string, fd: number): string | undefined;
}

/** Attaches `progFd` to socket `fd` through `hook`; errors say what the caller can fix. */
export function attachToSocket(hook: SocketHook, fd: number, progFd: number): SocketAttachment {
  try {
    hook.attach(fd, progFd);
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    const explained =
      hook.explain?.(code, fd) ??
      (code === 'EBADF' || code === 'ENOTSOCK'
        ? `socket fd ${fd} is ${code === 'EBADF' ? 'not an open file descriptor' : 'not a socket'}: pass a Node dgram/net socket or a socket fd`
        : undefined);
    if (explained !== undefined) throw new InvalidArgumentError(explained, { cause: error, code });
    throw translateSysError(error, `attaching ${hook.what} to socket fd ${fd}`);
  }
  return detachOnce({ socketFd: fd }, () => detachFromSocket(hook, fd, true));
}

/**
 * Detaches what `hook` attached to socket `fd`; false when nothing was (ENOENT) or, when
 * `closedToo`, the socket is closed already (EBADF, ENOTSOCK): nothing left to detach.
 */
export function detachFromSocket(hook: SocketHook, fd: number, closedToo: boolean): boolean {
  try {
    hook.detach(fd);
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || (closedToo && (code === 'EBADF' || code === 'ENOTSOCK'))) return false;
    throw translateSysError(error, `detaching ${hook.what} from socket fd ${fd}`);
  }
}
