export { kernelBtf, moduleBtf } from '@ebpf/btf/node';
export { BtfHandle, type BtfLoadOptions, BtfRejectedError } from './handle.ts';
