/**
 * @ebpf/cli: the `ebpf` command. The package's programmatic face is small: run the command with
 * an argument list, and the demo's XDP protocol counter, for reuse and tests.
 * @packageDocumentation
 */
export { PacketCounter } from './demo/counter.ts';
export { counterMapName, counterProgram, counterProgramItems } from './demo/program.ts';
export { type Counter, type Counters, protocolSlots, Slot, type SlotKey } from './demo/slots.ts';
export { CliError, ExitCode } from './exit-codes.ts';
export { createProgram, main } from './main.ts';
