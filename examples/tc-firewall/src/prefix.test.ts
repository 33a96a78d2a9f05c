import { InvalidArgumentError } from '@ebpf/core';
import { describe, expect, it } from 'vitest';
import { formatPrefix, parsePrefix } from './prefix.ts';

describe('parsePrefix', () => {
  it.each([
    ['10.0.0.0/8', { prefixLen: 8, data: '10.0.0.0' }],
    ['10.1.2.3/8', { prefixLen: 8, data: '10.0.0.0' }],
    ['192.0.2.7', { prefixLen: 32, data: '192.0.2.7' }],
    ['198.51.100.200/25', { prefixLen: 25, data: '198.51.100.128' }],
    ['1.2.3.4/0', { prefixLen: 0, data: '0.0.0.0' }],
  ])('%s', (text, key) => {
    expect(parsePrefix(text)).toEqual(key);
  });

  it.each(['10.0.0/8', '10.0.0.256', '10.0.0.0/33', '10.0.0.0/', 'example.com', ''])(
    'refuses %j, saying how to write one',
    (text) => {
      expect(() => parsePrefix(text)).toThrow(InvalidArgumentError);
      expect(() => parsePrefix(text)).toThrow(/write an address \(192\.0\.2\.7\)/);
    },
  );

  it('formats a key back', () => {
    expect(formatPrefix(parsePrefix('10.1.2.3/16'))).toBe('10.1.0.0/16');
  });
});
