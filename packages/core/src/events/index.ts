export {
  PerfBuffer,
  type PerfBufferMap,
  type PerfBufferOptions,
  type PerfRecordHandler,
  type PerfSampleCopy,
} from './perf-buffer.ts';
export { RecordTooShortError, type RingRecord, type RingRecordHandler } from './record.ts';
export { RingBuffer, type RingBufferMap } from './ring-buffer.ts';
export { UserRingBuffer, type UserRingBufferMap } from './user-ring-buffer.ts';
