import { errnoNumber, SysError } from '@ebpf/sys';
import { expect, it } from 'vitest';
import { InvalidArgumentError, PermissionError } from '../errors.ts';
import { attachToSocket, detachFromSocket, type SocketHook } from './socket-attachment.ts';

const failing = (code: string) => () => {
  throw new SysError(errnoNumber(code) as number, 'setsockopt');
};

function hook(overrides: Partial<SocketHook> = {}): SocketHook & { detached: number } {
  const h = {
    what: 'a test program',
    detached: 0,
    attach: () => {},
    detach: () => {
      h.detached++;
    },
    ...overrides,
  };
  return h;
}

it('detaches once, however often detach() or dispose runs', () => {
  const h = hook();
  const attachment = attachToSocket(h, 5, 9);
  expect(attachment.socketFd).toBe(5);
  attachment.detach();
  attachment[Symbol.dispose]();
  expect(h.detached).toBe(1);
});

it('says what to fix for a bad socket, or what the hook explains, and translates the rest', () => {
  expect(() => attachToSocket(hook({ attach: failing('ENOTSOCK') }), 5, 9)).toThrow(
    /socket fd 5 is not a socket: pass a Node dgram\/net socket or a socket fd/,
  );
  expect(() => attachToSocket(hook({ attach: failing('EBADF') }), 5, 9)).toThrow(InvalidArgumentError);
  const explain = (code: string) => (code === 'EINVAL' ? 'in no group' : undefined);
  expect(() => attachToSocket(hook({ attach: failing('EINVAL'), explain }), 5, 9)).toThrow(/^in no group$/);
  expect(() => attachToSocket(hook({ attach: failing('EPERM') }), 5, 9)).toThrow(PermissionError);
});

it('counts a socket with nothing attached, or one already closed, as nothing to detach', () => {
  expect(detachFromSocket(hook({ detach: failing('ENOENT') }), 5, false)).toBe(false);
  expect(detachFromSocket(hook({ detach: failing('EBADF') }), 5, true)).toBe(false);
  expect(() => detachFromSocket(hook({ detach: failing('EBADF') }), 5, false)).toThrow(
    /detaching a test program/,
  );
  expect(() => attachToSocket(hook({ detach: failing('ENOTSOCK') }), 5, 9).detach()).not.toThrow();
});
