import dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { requireKernel, skipUnsupported } from '@ebpf/test-utils';
import { describe, expect, it } from 'vitest';
import {
  attachSocketFilter,
  close,
  detachSocketFilter,
  getMemlockLimit,
  ifNameToIndex,
  ioctl,
  PERF_EVENT_IOC_DISABLE,
  PERF_EVENT_IOC_ENABLE,
  PERF_EVENT_IOC_SET_BPF,
  perfEventOpen,
  setMemlockLimit,
} from './index.ts';
import { buf, exit, loadProgram, movImm, ProgType, program, trackFds } from './test/helpers.ts';

const track = trackFds();

/** The fd of a bound UDP socket (Node's UDP handle exposes it on Linux). */
async function udpSocket(): Promise<{ socket: dgram.Socket; fd: number; port: number }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
  return { socket, fd, port: socket.address().port };
}

function received(socket: dgram.Socket, port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      resolve(false);
    }, ms);
    const onMessage = (): void => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(true);
    };
    socket.on('message', onMessage);
    socket.send('ping', port, '127.0.0.1');
  });
}

requireKernel('socket filters', () => {
  it('attaches a dropping filter to a UDP socket, then detaches it', async () => {
    const { socket, fd, port } = await udpSocket();
    try {
      expect(fd).toBeGreaterThan(2);
      const dropAll = track(loadProgram(ProgType.SocketFilter, program(movImm(0, 0), exit())));
      attachSocketFilter(fd, dropAll);
      expect(await received(socket, port, 300)).toBe(false);
      detachSocketFilter(fd);
      expect(await received(socket, port, 2000)).toBe(true);
    } finally {
      socket.close();
    }
  });

  it('throws SysError for a non-socket fd', () => {
    const prog = track(loadProgram(ProgType.SocketFilter, program(movImm(0, 0), exit())));
    expect(() => attachSocketFilter(prog, prog)).toThrow(
      expect.objectContaining({ code: 'ENOTSOCK', command: 'setsockopt(SO_ATTACH_BPF)' }),
    );
  });
});

/** A perf_event_attr of 128 bytes (PERF_ATTR_SIZE_VER7). */
function perfAttr(type: number, config: bigint, disabled: boolean): Uint8Array {
  const a = buf(128);
  const v = new DataView(a.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, 128, true);
  v.setBigUint64(8, config, true);
  v.setBigUint64(40, disabled ? 1n : 0n, true);
  return a;
}

const getpidTracepoint = '/sys/kernel/tracing/events/syscalls/sys_enter_getpid/id';
const uprobeType = '/sys/bus/event_source/devices/uprobe/type';

requireKernel('perf events', () => {
  it('opens a software event and enables and disables it', () => {
    const fd = track(perfEventOpen(perfAttr(1 /* SOFTWARE */, 9n /* DUMMY */, true), 0, -1, -1, 0));
    expect(ioctl(fd, PERF_EVENT_IOC_ENABLE, 0)).toBe(0);
    expect(ioctl(fd, PERF_EVENT_IOC_DISABLE)).toBe(0);
  });

  it('refuses sigtrap, short attrs, other ioctls and other fds', () => {
    const trap = perfAttr(1, 9n, true);
    new DataView(trap.buffer).setBigUint64(40, 1n | (1n << 37n), true);
    expect(() => perfEventOpen(trap, 0, -1, -1, 0)).toThrow(/sigtrap/);
    const short = perfAttr(1, 9n, true);
    new DataView(short.buffer).setUint32(4, 200, true);
    expect(() => perfEventOpen(short, 0, -1, -1, 0)).toThrow(/attr.size \(200\)/);
    expect(() => perfEventOpen(buf(32), 0, -1, -1, 0)).toThrow(RangeError);
    expect(() =>
      perfEventOpen(perfAttr(1, 9n, true), 0, -1, -1, 0, new Uint8Array([65, 66]), new Uint32Array([1])),
    ).toThrow(/NUL-terminated/);
    const fd = track(perfEventOpen(perfAttr(1, 9n, true), 0, -1, -1, 0));
    expect(() => ioctl(fd, 0x5401, 0)).toThrow(/not one of the perf ioctls/);
    expect(() => ioctl(0, PERF_EVENT_IOC_ENABLE, 0)).toThrow(/not a perf event fd/);
  });

  it('takes a name only for the PMU types listed as taking one', () => {
    const name = new TextEncoder().encode('/bin/sh\0');
    for (const types of [null, new Uint32Array([1234])]) {
      expect(() => perfEventOpen(perfAttr(1, 9n, true), 0, -1, -1, 0, name, types)).toThrow(
        /name is only taken by the PMUs of namePmuTypes \(kprobe, uprobe\); attr.type 1 is none/,
      );
    }
    expect(() =>
      perfEventOpen(perfAttr(1, 9n, true), 0, -1, -1, 0, null, new Uint8Array(4) as never),
    ).toThrow(/namePmuTypes must be a Uint32Array/);
    expect(() => perfEventOpen(perfAttr(1, 9n, true), 0, -1, -1, 0, null, new Uint32Array(9))).toThrow(
      /at most 8 PMU types/,
    );
  });

  it.skipIf(skipUnsupported(existsSync(uprobeType) ? undefined : 'no uprobe PMU in this kernel'))(
    'hands the uprobe PMU the path as a pointer in config1',
    () => {
      const uprobe = Number(readFileSync(uprobeType, 'utf8'));
      const types = new Uint32Array([uprobe]);
      const path = (p: string) => new TextEncoder().encode(`${p}\0`);
      // The kernel resolves the path it was given: a missing file is ENOENT, a real one opens.
      expect(() =>
        perfEventOpen(perfAttr(uprobe, 0n, true), process.pid, -1, -1, 0, path('/no/such/file'), types),
      ).toThrow(expect.objectContaining({ code: 'ENOENT', command: 'perf_event_open' }));
      track(perfEventOpen(perfAttr(uprobe, 0n, true), process.pid, -1, -1, 0, path(process.execPath), types));
      // Without a name its config1 is zeroed, whatever JS put there: the kernel sees no path
      // (EINVAL), where the address as given would have been read (EFAULT).
      const attr = perfAttr(uprobe, 0n, true);
      new DataView(attr.buffer).setBigUint64(56, 0x1000n, true);
      expect(() => perfEventOpen(attr, process.pid, -1, -1, 0, null, types)).toThrow(
        expect.objectContaining({ code: 'EINVAL' }),
      );
      expect(() => perfEventOpen(attr, process.pid, -1, -1, 0, null, null)).toThrow(
        expect.objectContaining({ code: 'EFAULT' }),
      );
    },
  );

  it.skipIf(skipUnsupported(existsSync(getpidTracepoint) ? undefined : 'tracefs is not mounted'))(
    'attaches a tracepoint program with PERF_EVENT_IOC_SET_BPF',
    () => {
      const id = BigInt(readFileSync(getpidTracepoint, 'utf8').trim());
      const fd = track(perfEventOpen(perfAttr(2 /* TRACEPOINT */, id, false), -1, 0, -1, 0));
      const prog = track(loadProgram(ProgType.Tracepoint, program(movImm(0, 0), exit())));
      expect(ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog)).toBe(0);
    },
  );
});

requireKernel('limits and interfaces', () => {
  it('reads and sets RLIMIT_MEMLOCK', () => {
    const before = getMemlockLimit();
    expect(before.soft).toBeGreaterThan(0);
    setMemlockLimit(before.hard); // up to the hard limit needs no privilege
    expect(getMemlockLimit()).toEqual({ soft: before.hard, hard: before.hard });
    try {
      setMemlockLimit(Number.POSITIVE_INFINITY);
      expect(getMemlockLimit().soft).toBe(Number.POSITIVE_INFINITY);
    } catch (e) {
      // Raising the hard limit needs CAP_SYS_RESOURCE, which a container's root may lack.
      expect(e).toMatchObject({
        code: 'EPERM',
        command: 'setrlimit(RLIMIT_MEMLOCK)',
        hint: expect.stringMatching(/CAP_SYS_RESOURCE/),
      });
    }
    setMemlockLimit(before.soft);
    expect(getMemlockLimit().soft).toBe(before.soft);
    expect(() => setMemlockLimit(-1)).toThrow(TypeError);
  });

  it('finds lo and names a missing interface', () => {
    expect(ifNameToIndex('lo')).toBe(1);
    expect(() => ifNameToIndex('nope-such-if0')).toThrow(
      expect.objectContaining({ code: 'ENODEV', command: 'if_nametoindex' }),
    );
    expect(() => ifNameToIndex('x'.repeat(16))).toThrow(RangeError);
    expect(() => ifNameToIndex('')).toThrow(RangeError);
  });
});

describe('argument errors without the kernel', () => {
  it('names the argument', () => {
    expect(() => ifNameToIndex(3 as never)).toThrow('name must be a string');
    expect(() => close(-5)).toThrow('fd must be a file descriptor');
  });
});
