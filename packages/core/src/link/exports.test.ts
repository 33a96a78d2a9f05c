import { describe, expect, it } from 'vitest';
import * as core from '../index.ts';

describe('@ebpf/core exports', () => {
  it('has the names applications and the acceptance checks use', () => {
    for (const name of [
      'BpfMap',
      'BpfProgram',
      'Link',
      'XdpLink',
      'RawTracepointLink',
      'TracepointLink',
      'attachXdp',
      'attachSocket',
      'detachSocket',
      'attachRawTracepoint',
      'attachTracepoint',
      'attachTcx',
      'attachCgroup',
      'attachUprobe',
      'TcxLink',
      'CgroupLink',
      'UprobeLink',
      'features',
      'VerifierError',
      'NotSupportedError',
      'parseVerifierLog',
    ]) {
      expect(core, name).toHaveProperty(name);
    }
  });
});
