import * as sys from '@ebpf/sys';
import { ProgType } from '@ebpf/uapi';
import { InvalidArgumentError, translateSysError } from '../errors.ts';
import { requireProgramType, type TypedProgram } from './link.ts';
import { type SocketLike, socketFd } from './socket.ts';

/** A `sk_reuseport` program on a SO_REUSEPORT group; `detach()` (or `using`) removes it. */
export interface ReuseportAttachment extends Disposable {
  /** The socket fd the program was attached through. */
  readonly socketFd: number;
  /** Removes the program from the group (`SO_DETACH_REUSEPORT_BPF`); twice is a no-op. */
  detach(): void;
}

/**
 * Attaches a `sk_reuseport` program to the SO_REUSEPORT group of `socket`
 * (`SO_ATTACH_REUSEPORT_EBPF`): for each incoming packet it picks the group's socket (with
 * `bpf_sk_select_reuseport`) or leaves the choice to the kernel. The group holds the program.
 */
export function attachReuseport(program: TypedProgram, socket: SocketLike): ReuseportAttachment {
  requireProgramType(program, 'attachReuseport', ProgType.SkReuseport);
  const fd = socketFd(socket);
  try {
    sys.attachReuseport(fd, program.fd);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EINVAL') {
      throw new InvalidArgumentError(
        `socket fd ${fd} is in no SO_REUSEPORT group: set SO_REUSEPORT on it before binding (EINVAL)`,
        { cause: error, code },
      );
    }
    if (code === 'ENOTSOCK' || code === 'EBADF')
      throw new InvalidArgumentError(`socket fd ${fd} is not an open socket (${code})`, {
        cause: error,
        code,
      });
    throw translateSysError(error, `attaching a reuseport program to socket fd ${fd}`);
  }
  let attached = true;
  return {
    socketFd: fd,
    detach() {
      if (!attached) return;
      attached = false;
      try {
        sys.detachReuseport(fd);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== 'ENOENT' && code !== 'EBADF' && code !== 'ENOTSOCK')
          throw translateSysError(error, `detaching the reuseport program of socket fd ${fd}`);
      }
    },
    [Symbol.dispose]() {
      this.detach();
    },
  };
}
