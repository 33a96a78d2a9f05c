export type { RingRecord, RingRecordHandler } from './record.ts';
export { RingBuffer, type RingBufferMap } from './ring-buffer.ts';
