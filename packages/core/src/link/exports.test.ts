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
      'symbolOffset',
      'attachIter',
      'IterLink',
      'attachNetns',
      'NetnsLink',
      'attachNetfilter',
      'NetfilterLink',
      'attachPerfEvent',
      'PerfEventLink',
      'attachUprobeMulti',
      'UprobeMultiLink',
      'attachKprobe',
      'KprobeLink',
      'attachKprobeMulti',
      'KprobeMultiLink',
      'attachTracing',
      'TracingLink',
      'attachCgroupLegacy',
      'queryCgroup',
      'planAttach',
      'attachSockmap',
      'attachReuseport',
      'SockmapLink',
      'attachPlanned',
      'attachesFromSection',
      'features',
      'VerifierError',
      'NotSupportedError',
      'parseVerifierLog',
    ]) {
      expect(core, name).toHaveProperty(name);
    }
  });
});
