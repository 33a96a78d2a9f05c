/**
 * Attaches the firewall to an interface and manages its blocked prefixes from the terminal:
 * `sudo node dist/main.js eth0 [prefix...]`, then `block 10.0.0.0/8`, `unblock 10.0.0.0/8`,
 * `list`, `stats`; Ctrl-D or Ctrl-C detaches it.
 */
import { createInterface } from 'node:readline';
import { Firewall } from './firewall.ts';

const [iface, ...initial] = process.argv.slice(2);
if (iface === undefined) {
  console.error('usage: node dist/main.js <interface> [prefix...]   (e.g. eth0 203.0.113.0/24)');
  process.exit(2);
}

using firewall = new Firewall(iface);
for (const prefix of initial) firewall.block(prefix);

const commands: Record<string, (prefix: string) => string> = {
  block: (prefix) => {
    firewall.block(prefix);
    return `blocking ${prefix}`;
  },
  unblock: (prefix) => (firewall.unblock(prefix) ? `unblocked ${prefix}` : `${prefix} was not blocked`),
  list: () =>
    firewall
      .blocked()
      .map(({ prefix, drops }) => `${prefix.padEnd(18)} ${drops} packets dropped`)
      .join('\n') || 'nothing blocked',
  stats: () =>
    Object.entries(firewall.traffic())
      .map(([verdict, { packets, bytes }]) => `${verdict.padEnd(5)} ${packets} packets, ${bytes} bytes`)
      .join('\n'),
};

console.log(`firewall on ${iface}: ${Object.keys(commands).join(', ')}`);
const terminal = createInterface({ input: process.stdin, output: process.stdout, prompt: '> ' });
terminal.prompt();
for await (const line of terminal) {
  const [name = '', prefix = ''] = line.trim().split(/\s+/);
  const command = commands[name];
  try {
    if (command !== undefined) console.log(command(prefix));
    else if (name !== '') console.log(`unknown command ${name}: ${Object.keys(commands).join(', ')}`);
  } catch (error) {
    console.log((error as Error).message);
  }
  terminal.prompt();
}
