import { execFileSync } from 'node:child_process';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * A network namespace with one end of a veth pair, the other end (`outside`) in this process's
 * namespace. Traffic sent from inside the namespace arrives at `outside`, where this process
 * attaches its programs. IPv6 is off on both ends so that router solicitations do not add packets.
 */
export class VethNamespace {
  readonly netns: string;
  readonly outside: string;
  readonly inside: string;
  readonly outsideAddress: string;
  readonly insideAddress: string;

  constructor(label: string) {
    const tag = `${label}${(process.pid % 100_000).toString(36)}`;
    this.netns = `e2e-${tag}`;
    this.outside = `e2o${tag}`.slice(0, 15);
    this.inside = `e2i${tag}`.slice(0, 15);
    const subnet = `10.${150 + (process.pid % 50)}.${(process.pid >> 6) % 250}`;
    this.outsideAddress = `${subnet}.1`;
    this.insideAddress = `${subnet}.2`;
    this.remove();
    ip('netns', 'add', this.netns);
    ip('link', 'add', this.outside, 'type', 'veth', 'peer', 'name', this.inside, 'netns', this.netns);
    execFileSync('sysctl', ['-qw', `net.ipv6.conf.${this.outside}.disable_ipv6=1`]);
    this.exec('sysctl', '-qw', `net.ipv6.conf.${this.inside}.disable_ipv6=1`);
    ip('addr', 'add', `${this.outsideAddress}/24`, 'dev', this.outside);
    ip('link', 'set', this.outside, 'up');
    this.exec('ip', 'addr', 'add', `${this.insideAddress}/24`, 'dev', this.inside);
    this.exec('ip', 'link', 'set', this.inside, 'up');
    this.exec('ip', 'link', 'set', 'lo', 'up');
  }

  /** Runs a command inside the namespace; returns its output. */
  exec(command: string, ...args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.netns, command, ...args], { encoding: 'utf8' });
  }

  /** Sends `count` pings from inside the namespace to `outside` (ICMP echo, 84-byte IP packets). */
  ping(count: number): void {
    try {
      this.exec('ping', '-q', '-c', String(count), '-i', '0.01', '-W', '1', this.outsideAddress);
    } catch {
      // Lost replies (a program dropping them) make ping exit 1; the requests went out all the same.
    }
  }

  remove(): void {
    try {
      ip('link', 'del', this.outside);
    } catch {
      // Not there.
    }
    try {
      ip('netns', 'del', this.netns);
    } catch {
      // Not there.
    }
  }
}
