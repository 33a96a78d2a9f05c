import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Runs `fn`, ignoring that what it removes is already gone. */
function ignoreMissing(fn: () => unknown): void {
  try {
    fn();
  } catch {
    // Not there.
  }
}

/** Stops router solicitations and DAD on `device`: no IPv6 packets arrive while a test counts. */
function quiet(device: string, namespace?: NetworkNamespace): void {
  const file = `/proc/sys/net/ipv6/conf/${device}/disable_ipv6`;
  if (namespace === undefined) writeFileSync(file, '1');
  else namespace.exec('sysctl', '-qw', `net.ipv6.conf.${device}.disable_ipv6=1`);
}

let created = 0;

/**
 * Names and a /24 subnet for the next pair of interfaces of this process: unique across the
 * processes tests run in at once (interface names stay within 15 characters).
 */
function nextPair(prefix: string): { tag: string; subnet: string } {
  const n = process.pid * 4 + created++;
  return { tag: `${prefix}${n.toString(36)}`, subnet: `10.${128 + ((n >> 8) % 128)}.${n % 256}` };
}

/** A network namespace of its own, with `lo` up: an `lo` and interfaces no other test sees. */
export class NetworkNamespace {
  constructor(readonly name: string) {
    ignoreMissing(() => ip('netns', 'del', name));
    ip('netns', 'add', name);
    this.exec('ip', 'link', 'set', 'lo', 'up');
  }

  /** The command line that runs `command` inside the namespace. */
  argv(command: string, ...args: string[]): string[] {
    return ['ip', 'netns', 'exec', this.name, command, ...args];
  }

  /** Runs a command inside the namespace; returns its output. */
  exec(command: string, ...args: string[]): string {
    const [ipCommand, ...rest] = this.argv(command, ...args);
    return execFileSync(ipCommand!, rest, { encoding: 'utf8' });
  }

  remove(): void {
    ignoreMissing(() => ip('netns', 'del', this.name));
  }

  [Symbol.dispose](): void {
    this.remove();
  }
}

/**
 * A veth pair in this process's namespace: datagrams sent out of `a` to `peerAddress` (a
 * neighbour with `b`'s MAC address) arrive at `b`, where a test attaches its program.
 */
export class VethPair {
  readonly a: string;
  readonly b: string;
  readonly address: string;
  readonly peerAddress: string;

  constructor(prefix: string) {
    const { tag, subnet } = nextPair(prefix);
    this.a = `${tag}a`;
    this.b = `${tag}b`;
    this.address = `${subnet}.1`;
    this.peerAddress = `${subnet}.2`;
    this.remove();
    ip('link', 'add', this.a, 'type', 'veth', 'peer', 'name', this.b);
    quiet(this.a);
    quiet(this.b);
    ip('addr', 'add', `${this.address}/24`, 'dev', this.a);
    ip('link', 'set', this.a, 'up');
    ip('link', 'set', this.b, 'up');
    const mac = readFileSync(`/sys/class/net/${this.b}/address`, 'utf8').trim();
    ip('neigh', 'replace', this.peerAddress, 'lladdr', mac, 'dev', this.a, 'nud', 'permanent');
  }

  remove(): void {
    ignoreMissing(() => ip('link', 'del', this.a));
  }

  [Symbol.dispose](): void {
    this.remove();
  }
}

/**
 * A network namespace with one end of a veth pair, the other end (`outside`) in this process's
 * namespace. Traffic sent from inside the namespace arrives at `outside`, where this process
 * attaches its programs. IPv6 is off on both ends so that router solicitations add no packets.
 */
export class VethNamespace {
  readonly namespace: NetworkNamespace;
  readonly outside: string;
  readonly inside: string;
  readonly outsideAddress: string;
  readonly insideAddress: string;

  constructor(prefix: string) {
    const { tag, subnet } = nextPair(prefix);
    this.outside = `${tag}o`;
    this.inside = `${tag}i`;
    this.outsideAddress = `${subnet}.1`;
    this.insideAddress = `${subnet}.2`;
    ignoreMissing(() => ip('link', 'del', this.outside));
    this.namespace = new NetworkNamespace(`ns-${tag}`);
    ip(
      'link',
      'add',
      this.outside,
      'type',
      'veth',
      'peer',
      'name',
      this.inside,
      'netns',
      this.namespace.name,
    );
    quiet(this.outside);
    quiet(this.inside, this.namespace);
    ip('addr', 'add', `${this.outsideAddress}/24`, 'dev', this.outside);
    ip('link', 'set', this.outside, 'up');
    this.namespace.exec('ip', 'addr', 'add', `${this.insideAddress}/24`, 'dev', this.inside);
    this.namespace.exec('ip', 'link', 'set', this.inside, 'up');
  }

  /** Sends `count` pings from inside the namespace to `outside` (ICMP echo, 84-byte IP packets). */
  ping(count: number): void {
    try {
      this.namespace.exec('ping', '-q', '-c', String(count), '-i', '0.01', '-W', '1', this.outsideAddress);
    } catch {
      // Lost replies (a program dropping them) make ping exit 1; the requests went out all the same.
    }
  }

  remove(): void {
    ignoreMissing(() => ip('link', 'del', this.outside));
    this.namespace.remove();
  }

  [Symbol.dispose](): void {
    this.remove();
  }
}
