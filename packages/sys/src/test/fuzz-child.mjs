// Runs in a child process (see fuzz.kernel.test.ts): throws random and hostile arguments at every
// export of the addon and checks that each call returns or throws an Error, and that no byte
// around any buffer it passed was touched (each buffer sits between canaries). A crash kills this
// process, which the parent reports as a failure. Prints one JSON line with the counts.
//
// Usage: node fuzz-child.mjs <packageRoot> <seed> <rounds>
import dgram from 'node:dgram';
import { createRequire } from 'node:module';

const [root, seedArg, roundsArg] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const sys = process.env.EBPF_SYS_NATIVE
  ? require(process.env.EBPF_SYS_NATIVE)
  : require('node-gyp-build')(root);

class FuzzSysError extends Error {
  constructor(errno, command) {
    super(`${command}: errno ${errno}`);
    this.errno = errno;
    this.command = command;
  }
}
sys.setErrorClass(FuzzSysError);

// --- deterministic randomness (mulberry32) ---------------------------------------------------
let seed = Number(seedArg) >>> 0;
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rand() * n);
const pick = (a) => a[int(a.length)];
const chance = (p) => rand() < p;

// --- buffers between canaries ------------------------------------------------------------------
const GUARD = 64;
const guarded = [];
function guardedBytes(n) {
  const whole = new Uint8Array(new ArrayBuffer(n + 2 * GUARD));
  whole.fill(0xa5);
  const inner = whole.subarray(GUARD, GUARD + n);
  for (let i = 0; i < n; i++) inner[i] = chance(0.5) ? 0 : int(256);
  guarded.push(whole);
  return inner;
}
function checkGuards(where) {
  for (const whole of guarded) {
    const n = whole.length - 2 * GUARD;
    for (let i = 0; i < GUARD; i++) {
      if (whole[i] !== 0xa5 || whole[GUARD + n + i] !== 0xa5) {
        console.error(`canary overwritten after ${where}`);
        process.exit(3);
      }
    }
  }
  guarded.length = 0;
}

// --- the objects the fuzzer may point fds at ---------------------------------------------------
const own = new Set();
const mk = (type, k, v, n, flags = 0) => {
  const a = new Uint8Array(new ArrayBuffer(96));
  const d = new DataView(a.buffer);
  d.setUint32(0, type, true);
  d.setUint32(4, k, true);
  d.setUint32(8, v, true);
  d.setUint32(12, n, true);
  d.setUint32(16, flags, true);
  const fd = sys.bpf(0, a, []);
  own.add(fd);
  return fd;
};
const maps = [
  mk(1, 4, 8, 64),
  mk(2, 4, 8, 64, 1 << 10),
  mk(5, 8, 12, 16),
  mk(6, 4, 4, 4),
  mk(22, 0, 8, 8),
  mk(27, 0, 0, 16 * 4096),
  mk(11, 8, 8, 16, 1), // LPM trie (BPF_F_NO_PREALLOC)
  mk(31, 0, 0, 4 * 4096), // user ring buffer
  refusable(() => mk(33, 0, 0, 4, 1 << 10)), // arena of 4 pages
  refusable(() => mk(33, 0, 0, 4, (1 << 10) | (1 << 17))), // arena with BPF_F_SEGV_ON_FAULT: mmap() must refuse it
  frozen(mk(2, 4, 8, 64, 1 << 10)), // frozen mmapable array: pages the kernel maps read-only only
];
/** Some kernels refuse arenas even to root (EPERM): there the fuzzer aims at fd -1 instead. */
function refusable(make) {
  try {
    return make();
  } catch (error) {
    if (error.errno === 1) return -1;
    throw error;
  }
}
function frozen(fd) {
  const a = new Uint8Array(new ArrayBuffer(8));
  new DataView(a.buffer).setUint32(0, fd, true);
  sys.bpf(22, a, []); // BPF_MAP_FREEZE
  return fd;
}
const xdpPass = new Uint8Array(new ArrayBuffer(16));
xdpPass.set([0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
function load(type) {
  const a = new Uint8Array(new ArrayBuffer(168));
  const d = new DataView(a.buffer);
  d.setUint32(0, type, true);
  d.setUint32(4, 2, true);
  const fd = sys.bpf(5, a, [8, xdpPass, 16, new TextEncoder().encode('GPL\0')]);
  own.add(fd);
  return fd;
}
const progs = [load(6), load(1)]; // XDP returning PASS, socket filter returning 2 (keep 2 bytes)
const perfAttr = new Uint8Array(new ArrayBuffer(128));
new DataView(perfAttr.buffer).setUint32(0, 1, true);
new DataView(perfAttr.buffer).setUint32(4, 128, true);
new DataView(perfAttr.buffer).setBigUint64(8, 9n, true);
new DataView(perfAttr.buffer).setBigUint64(40, 1n, true);
const perf = sys.perfEventOpen(perfAttr, 0, -1, -1, 0);
own.add(perf);
const udp = dgram.createSocket('udp4');
await new Promise((r) => udp.bind(0, '127.0.0.1', r));
const udpFd = udp._handle.fd;
const closedFd = sys.dup(maps[0]);
sys.close(closedFd);
const fds = [...maps, ...progs, perf, udpFd, closedFd, 0, 1, 2, 1_000_000, 2 ** 31 - 1];

// --- hostile values ----------------------------------------------------------------------------
function detached() {
  const ab = new ArrayBuffer(16);
  const view = new Uint8Array(ab);
  structuredClone(ab, { transfer: [ab] });
  return view;
}
function anyValue() {
  switch (int(24)) {
    case 0:
      return undefined;
    case 1:
      return null;
    case 2:
      return pick([true, false]);
    case 3:
      return pick([
        0,
        -1,
        1.5,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        -0,
        2 ** 31,
        2 ** 32,
        2 ** 53,
        -(2 ** 53),
        1e300,
      ]);
    case 4:
      return pick(['', '3', 'lo', 'x'.repeat(100), 'a\0b']);
    case 5:
      return pick([{}, [], [1, 2], { length: 4 }]);
    case 6:
      return 10n;
    case 7:
      return () => 0;
    case 8:
      return Symbol('s');
    case 9:
      return new Uint16Array(4);
    case 10:
      return new ArrayBuffer(8);
    case 11:
      return new DataView(new ArrayBuffer(8));
    case 12:
      return detached();
    case 13:
      return Buffer.alloc(int(64));
    case 14:
      return new Uint8Array(new SharedArrayBuffer(32));
    case 15:
      return new Uint8Array(new ArrayBuffer(8, { maxByteLength: 64 }));
    case 16:
      return new Uint8Array(0);
    default:
      return pick(fds);
  }
}
const anyBytes = () =>
  chance(0.85) ? guardedBytes(pick([0, 1, 3, 4, 7, 8, 12, 16, 24, 64, 128, 512, 4096])) : anyValue();
const anyFd = () => (chance(0.85) ? pick(fds) : anyValue());
const anyNum = () =>
  chance(0.7) ? pick([0, 1, 2, 4, 8, 16, 64, 4096, 2 ** 32 - 1, int(1 << 20)]) : anyValue();
// An attr for cmd: random bytes, then plausible fds, bogus lengths and raw addresses.
function hostileAttr(cmd) {
  const size = chance(0.8)
    ? pick([sys.attrSize(Math.min(cmd, 37)), 4, 16, 32, 56, 64, 80, 96, 168, 200])
    : int(300);
  const a = guardedBytes(size);
  const d = new DataView(a.buffer, a.byteOffset, a.byteLength);
  for (let i = 0; i + 4 <= size; i += 4) {
    const r = int(6);
    if (r === 0) d.setUint32(i, pick(fds.filter((f) => typeof f === 'number' && f < 2 ** 31)), true);
    else if (r === 1) d.setUint32(i, pick([0, 1, 8, 64, 4096, 0xffffffff, int(1 << 16)]), true);
    else if (r === 2 && i % 8 === 0 && i + 8 <= size)
      d.setBigUint64(i, pick([0x1000n, 0xdeadbeefn, 0x7fffffffe000n, 0xffffffffffffffffn]), true);
  }
  if (cmd === 0 && size >= 16) {
    d.setUint32(4, int(64), true); // keep created maps small
    d.setUint32(8, int(256), true);
    d.setUint32(12, int(4096) + 1, true);
  }
  if (cmd === 10 && size >= 36) d.setUint32(32, int(4), true); // test-run repeat
  return a;
}
function hostilePointers(cmd) {
  if (chance(0.05)) return anyValue();
  const out = [];
  const n = int(6);
  const known = sys.pointerFields(Math.min(cmd, 37), int(60)).map((f) => f.offset);
  for (let i = 0; i < n; i++) {
    out.push(chance(0.6) && known.length ? pick(known) : chance(0.5) ? int(200) : anyValue());
    out.push(anyBytes());
  }
  return out;
}

// --- mappings ------------------------------------------------------------------------------------
// Every buffer the checked mmap() returns must take writes to every byte: a read-only or
// half-backed mapping would kill this process here. Then the buffer is abused: unmapped twice,
// transferred, its fd closed under it, read after unmapping.
let mapped = 0;
let unmapped = 0;
const mmapLength = () => pick([1, 4096, 8192, 4096 * 17, 4096 * 64, 2 ** 40, anyNum()]);
const mmapOffset = () => (chance(0.6) ? undefined : pick([0, 4096, 8192, 100, anyNum()]));
function writeEveryPage(buffer) {
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < bytes.length; i += 1024) bytes[i] ^= 0;
  if (bytes.length > 0) bytes[bytes.length - 1] ^= 0;
}
function abuseMapping(buffer) {
  switch (int(4)) {
    case 0: {
      // Transferring it (Node copies external buffers): the copy is not a mapping.
      const moved = attempt('mmap transfer', () => structuredClone(buffer, { transfer: [buffer] }));
      if (moved instanceof ArrayBuffer) attempt('munmap', () => sys.munmap(moved));
      break;
    }
    case 1: // nor is a slice
      attempt('munmap', () => sys.munmap(buffer.slice(0)));
      break;
    default:
      break;
  }
  if (buffer.byteLength === 0) return;
  const view = new Uint8Array(buffer);
  writeEveryPage(buffer);
  unmapped++;
  if (attempt('munmap', () => sys.munmap(buffer) ?? true) !== true) {
    console.error('munmap refused a live mapping');
    process.exit(5);
  }
  attempt('munmap', () => sys.munmap(buffer)); // twice: refused, not a double unmap
  if (view.length !== 0 || buffer.byteLength !== 0) {
    console.error('a view of an unmapped buffer still has bytes');
    process.exit(5);
  }
  view[0] = 1; // a detached view ignores writes
}
// Fds the kernel can map: mmapable array, ring buffer, user ring buffer, arenas, frozen array, perf.
const mappable = [maps[1], maps[5], maps[7], maps[8], maps[9], maps[10], perf];
function fuzzMappings() {
  const fd = chance(0.5) ? pick(mappable) : anyFd();
  const writable = chance(0.8) ? true : chance(0.5) ? false : anyValue();
  const length = chance(0.4) ? 4096 : mmapLength();
  const mapping = attempt('mmap', () => sys.mmap(fd, length, writable, mmapOffset()));
  if (mapping instanceof ArrayBuffer) {
    mapped++;
    if (process.env.FUZZ_TRACE)
      process.stderr.write(`mapped fd ${fd} (${sys.fdKind(fd)}) ${mapping.byteLength}\n`);
    if (mapping.byteLength === 0) {
      console.error('mmap returned an empty buffer');
      process.exit(5);
    }
    writeEveryPage(mapping);
    if (chance(0.3)) {
      // The fd closed under a live mapping: the mapping keeps the object alive.
      const copy = sys.dup(typeof fd === 'number' ? fd : 0);
      const again = attempt('mmap', () => sys.mmap(copy, mapping.byteLength, true, 0));
      sys.close(copy);
      if (again instanceof ArrayBuffer) abuseMapping(again);
    }
    if (chance(0.7)) abuseMapping(mapping); // else left to the GC
  }
  const ro = attempt('mmapReadOnlyUnchecked', () =>
    sys.mmapReadOnlyUnchecked(chance(0.5) ? pick(mappable) : anyFd(), mmapLength(), mmapOffset()),
  );
  if (ro instanceof ArrayBuffer) {
    const bytes = new Uint8Array(ro);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i]; // reading is allowed
    if (chance(0.7)) attempt('munmap', () => sys.munmap(ro));
  }
}

// --- test runners ----------------------------------------------------------------------------
// A runner's memory is one ArrayBuffer: a header of 12 u32 slots (48 bytes), then the regions
// data in, data out, context in, context out, each 8-byte aligned. Random, often oversized
// header values; the kernel may write only into the first `room` bytes of the output regions.
const regionRoom = () => (chance(0.8) ? pick([0, 8, 14, 24, 64, 100, 256]) : anyValue());
function fuzzTestRunner() {
  const caps = [regionRoom(), regionRoom(), regionRoom(), regionRoom()];
  const pair = attempt('testRunner', () => sys.testRunner(chance(0.7) ? pick(progs) : anyFd(), ...caps));
  if (!Array.isArray(pair)) return;
  const [run, memory] = pair;
  const header = new Uint32Array(memory, 0, 12);
  const whole = new Uint8Array(memory);
  const offsets = [48];
  for (const c of caps) offsets.push(offsets.at(-1) + ((c + 7) & ~7));
  for (let i = 0; i < 3; i++) {
    whole.fill(0xa5, 48);
    const slot = () => (chance(0.7) ? int(300) : pick([0xffffffff, 2 ** 31, 4097, caps[int(4)] + 1]));
    // Repeat stays small (a valid 2^32 - 1 runs for minutes); no XDP live frames (flag 2).
    header.set([slot(), slot(), slot(), slot(), int(4), pick([0, 1, 4]), int(2), 0], 4);
    attempt('testRunner.run', () => run());
    // Inputs are never written; outputs only within min(room, capacity).
    const untouched = (from, to) => whole.subarray(from, to).every((b) => b === 0xa5);
    const outEnd = (r, room) => offsets[r] + Math.min(room, caps[r]);
    if (
      !untouched(offsets[0], offsets[1]) ||
      !untouched(outEnd(1, header[5]), offsets[2]) ||
      !untouched(offsets[2], offsets[3]) ||
      !untouched(outEnd(3, header[7]), offsets[4])
    ) {
      console.error(`test runner wrote outside its output room (caps ${caps}, header ${header})`);
      process.exit(3);
    }
  }
}

// --- map accessors ----------------------------------------------------------------------------
// An accessor's memory: a 16-byte header (flags low, flags high, no-key), then key, value and
// next-key regions. Random ops and header values, sometimes on a closed or reused fd; the kernel
// may write only into the value region (lookups) and the next-key region (next key).
function fuzzMapAccessor() {
  const fd = chance(0.8) ? pick(maps) : anyFd();
  const made = attempt('mapAccessor', () => sys.mapAccessor(fd));
  if (!Array.isArray(made)) return;
  const [access, memory, keyOffset, valueOffset] = made;
  const header = new Uint32Array(memory, 0, 3);
  const whole = new Uint8Array(memory);
  for (let i = 0; i < 4; i++) {
    for (let b = keyOffset; b < whole.length; b++) whole[b] = int(256);
    header[0] = chance(0.7) ? pick([0, 1, 2, 4]) : int(2 ** 32);
    header[1] = chance(0.9) ? 0 : int(2 ** 32);
    header[2] = int(2);
    const before = whole.slice();
    const op = chance(0.9) ? int(5) : anyValue();
    attempt('mapAccessor.access', () => access(op));
    // Only the value region (lookups) and the next-key region (next key) may change.
    for (let b = 0; b < valueOffset; b++) {
      if (whole[b] !== before[b]) {
        console.error(`map accessor: byte ${b} before the value region changed (op ${op})`);
        process.exit(3);
      }
    }
  }
}

// --- the calls ---------------------------------------------------------------------------------
const counts = {};
const kinds = {};
let errors = 0;
let returned = 0;
function attempt(name, fn) {
  if (process.env.FUZZ_TRACE) process.stderr.write(`${name}\n`);
  counts[name] = (counts[name] ?? 0) + 1;
  let result;
  try {
    result = fn();
    returned++;
  } catch (e) {
    if (!(e instanceof Error)) {
      console.error(`${name} threw a non-Error: ${String(e)}`);
      process.exit(4);
    }
    errors++;
    kinds[e.constructor.name] = (kinds[e.constructor.name] ?? 0) + 1;
  }
  checkGuards(name);
  return result;
}
const release = (fd) => {
  if (typeof fd === 'number' && fd > 2 && !own.has(fd) && fd !== udpFd) {
    try {
      sys.close(fd);
    } catch {}
  }
};

const rounds = Number(roundsArg);
for (let round = 0; round < rounds; round++) {
  const cmd = chance(0.9) ? int(41) : anyValue();
  release(
    attempt('bpf', () =>
      sys.bpf(
        cmd,
        chance(0.95) ? hostileAttr(typeof cmd === 'number' ? cmd : 0) : anyValue(),
        hostilePointers(typeof cmd === 'number' ? cmd : 0),
      ),
    ),
  );
  attempt('bpfPairs', () => {
    const c = chance(0.9) ? int(41) : anyValue();
    const p = hostilePointers(typeof c === 'number' ? c : 0);
    const args = Array.isArray(p) ? p.slice(0, 8) : [p];
    return sys.bpfPairs(c, hostileAttr(typeof c === 'number' ? c : 0), ...args);
  });
  attempt('objInfo', () =>
    sys.objInfo(
      anyFd(),
      chance(0.9) ? guardedBytes(pick([0, 8, 32, 64, 104, 232, 300])) : anyValue(),
      hostilePointers(15),
    ),
  );
  const fd = anyFd();
  attempt('mapLookup', () => sys.mapLookup(fd, anyBytes(), anyBytes(), anyNum()));
  attempt('mapUpdate', () => sys.mapUpdate(fd, anyBytes(), anyBytes(), chance(0.8) ? int(5) : anyNum()));
  attempt('mapDelete', () => sys.mapDelete(fd, anyBytes()));
  attempt('mapNextKey', () => sys.mapNextKey(fd, chance(0.2) ? null : anyBytes(), anyBytes()));
  attempt('mapLookupAndDelete', () =>
    sys.mapLookupAndDelete(fd, chance(0.3) ? null : anyBytes(), anyBytes(), anyNum()),
  );
  attempt('noop', () => sys.noop(fd, anyBytes(), anyBytes(), anyNum()));
  fuzzTestRunner();
  fuzzMapAccessor();
  attempt('mapSizes', () => sys.mapSizes(anyFd()));
  attempt('adoptMap', () => sys.adoptMap(anyFd()));
  attempt('pointerFields', () => sys.pointerFields(anyNum(), anyNum()));
  attempt('infoPointerFields', () =>
    sys.infoPointerFields(pick(['prog', 'map', 'link', 'btf', 'x', 3]), anyNum(), anyNum()),
  );
  attempt('attrSize', () => sys.attrSize(anyNum()));
  attempt('commandName', () => sys.commandName(anyNum()));
  attempt('fdKind', () => sys.fdKind(anyFd()));
  release(attempt('dup', () => sys.dup(anyFd())));
  attempt('close', () => sys.close(pick([closedFd, 1_000_000, -1, 'x', 2 ** 31, null])));
  fuzzMappings();
  attempt('munmap', () => sys.munmap(anyValue()));
  const pfd = attempt('perfEventOpen', () => {
    const a = chance(0.8) ? guardedBytes(pick([32, 64, 112, 128, 136, 600])) : anyValue();
    if (a instanceof Uint8Array && a.length >= 64) {
      const d = new DataView(a.buffer, a.byteOffset, a.byteLength);
      d.setUint32(0, pick([0, 1, 2, 5, 6, 9, 10, int(64)]), true); // event types, incl. breakpoints and dynamic PMUs
      if (chance(0.8)) d.setUint32(4, pick([0, 64, 128, a.length, a.length + 8, 0xffffffff]), true);
      d.setBigUint64(8, BigInt(int(16)), true);
      d.setBigUint64(40, BigInt(int(2 ** 30)) | (chance(0.1) ? 1n << 37n : 0n) | 1n, true); // disabled, random bits
      d.setBigUint64(16, BigInt(int(1000)), true); // sample_period: small
    }
    return sys.perfEventOpen(
      a,
      pick([0, -1, anyNum()]),
      pick([-1, 0, anyNum()]),
      pick([-1, anyFd()]),
      chance(0.8) ? int(16) : anyValue(),
      chance(0.7) ? null : anyBytes(),
      pick([null, new Uint32Array([int(64), int(64)]), new Uint32Array(9), anyValue()]), // name-taking PMU types
    );
  });
  release(pfd);
  attempt('ioctl', () =>
    sys.ioctl(
      anyFd(),
      pick([
        sys.PERF_EVENT_IOC_ENABLE,
        sys.PERF_EVENT_IOC_DISABLE,
        sys.PERF_EVENT_IOC_RESET,
        sys.PERF_EVENT_IOC_SET_BPF,
        sys.PERF_EVENT_IOC_PAUSE_OUTPUT,
        0x5401,
        0xc0086420,
        anyNum(),
      ]),
      anyNum(),
    ),
  );
  const w = attempt('FdWatcher', () => new sys.FdWatcher(anyFd(), chance(0.8) ? () => {} : anyValue()));
  if (w) {
    attempt('FdWatcher.start', () => w.start());
    if (chance(0.5)) attempt('FdWatcher.unref', () => w.unref());
    attempt('FdWatcher.stop', () => w.stop());
    attempt('FdWatcher.close', () => w.close());
    attempt('FdWatcher.start', () => w.start());
  }
  const sock = chance(0.5) ? udpFd : anyFd();
  attempt('attachSocketFilter', () =>
    sys.attachSocketFilter(sock === udpFd || !own.has(sock) ? sock : closedFd, anyFd()),
  );
  attempt('detachSocketFilter', () => sys.detachSocketFilter(chance(0.5) ? udpFd : closedFd));
  attempt('attachReuseport', () =>
    sys.attachReuseport(sock === udpFd || !own.has(sock) ? sock : closedFd, anyFd()),
  );
  attempt('detachReuseport', () => sys.detachReuseport(chance(0.5) ? udpFd : closedFd));
  attempt('ifNameToIndex', () =>
    sys.ifNameToIndex(
      chance(0.8) ? pick(['lo', 'eth0', '', 'x'.repeat(15), 'x'.repeat(16), 'a\0b']) : anyValue(),
    ),
  );
  attempt('getMemlockLimit', () => sys.getMemlockLimit());
  attempt('possibleCpus', () => sys.possibleCpus());
  attempt('pageSize', () => sys.pageSize());
}
const before = sys.getMemlockLimit();
for (let i = 0; i < 50; i++)
  attempt('setMemlockLimit', () => sys.setMemlockLimit(chance(0.5) ? before.soft : anyValue()));
sys.setMemlockLimit(before.soft);
for (let i = 0; i < 50; i++) attempt('setErrorClass', () => sys.setErrorClass(anyValue()));
sys.setErrorClass(() => {
  throw new Error('a constructor that throws');
});
attempt('bpf with a throwing error class', () => sys.bpf(1, new Uint8Array(32), []));
sys.setErrorClass(FuzzSysError);

udp.close();
for (const fd of own) sys.close(fd);
console.log(JSON.stringify({ calls: errors + returned, errors, returned, kinds, counts, mapped, unmapped }));
