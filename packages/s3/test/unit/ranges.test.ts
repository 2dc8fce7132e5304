import { type ByteRange, formatRange, parseContentRange, parseRange, resolveRange } from '../../src/ranges';

describe('parseRange', () => {
  test.each<[string, ByteRange]>([
    ['bytes=0-0', { kind: 'bounded', start: 0, end: 0 }],
    ['bytes=10-19', { kind: 'bounded', start: 10, end: 19 }],
    ['bytes=5-5', { kind: 'bounded', start: 5, end: 5 }],
    ['bytes=100-', { kind: 'from', start: 100 }],
    ['bytes=0-', { kind: 'from', start: 0 }],
    ['bytes=-1', { kind: 'suffix', length: 1 }],
    ['bytes=-500', { kind: 'suffix', length: 500 }],
    ['bytes=-0', { kind: 'suffix', length: 0 }],
    ['  bytes=1-2  ', { kind: 'bounded', start: 1, end: 2 }],
    ['bytes=9007199254740991-', { kind: 'from', start: Number.MAX_SAFE_INTEGER }],
  ])('%j', (header, expected) => {
    expect(parseRange(header)).toEqual(expected);
  });

  test.each([
    'bytes=0-1,3-4', // several ranges
    'bytes=0-1, 3-4',
    'bytes=-',
    'bytes=',
    'bytes=a-b',
    'bytes=1-2-3',
    'bytes=--1',
    'bytes=+1-2',
    'bytes=1.5-2',
    'bytes=0x10-',
    'bytes 0-1',
    'items=0-1',
    '0-1',
    '',
    'bytes= 0-1',
    'bytes=12345678901234567-', // 17 digits
  ])('rejects malformed %j with RangeError', (header) => {
    expect(() => parseRange(header)).toThrow(RangeError);
  });

  test('rejects end before start', () => {
    expect(() => parseRange('bytes=10-9')).toThrow(RangeError);
    expect(() => parseRange('bytes=1-0')).toThrow(RangeError);
  });

  test.each([
    'bytes=9007199254740992-',
    'bytes=0-9007199254740992',
    'bytes=-9007199254740992',
    'bytes=9999999999999999-9999999999999999',
  ])('rejects bounds above 2^53 - 1: %j', (header) => {
    expect(() => parseRange(header)).toThrow(RangeError);
  });

  test.each([undefined, null, 5, ['bytes=0-1'], { start: 0 }])('TypeError for non-string %p', (value) => {
    expect(() => parseRange(value as unknown as string)).toThrow(TypeError);
  });
});

describe('formatRange', () => {
  test.each<[ByteRange, string]>([
    [{ kind: 'bounded', start: 0, end: 0 }, 'bytes=0-0'],
    [{ kind: 'bounded', start: 4136, end: 8271 }, 'bytes=4136-8271'],
    [{ kind: 'from', start: 7 }, 'bytes=7-'],
    [{ kind: 'suffix', length: 12 }, 'bytes=-12'],
  ])('%j → %s, and parses back', (range, header) => {
    expect(formatRange(range)).toBe(header);
    expect(parseRange(header)).toEqual(range);
  });
});

describe('parseContentRange', () => {
  test.each([
    ['bytes 0-9/10', { start: 0, end: 9, total: 10 }],
    ['bytes 4136-8271/100000', { start: 4136, end: 8271, total: 100000 }],
    ['bytes 5-5/6', { start: 5, end: 5, total: 6 }],
    [' bytes 0-0/1 ', { start: 0, end: 0, total: 1 }],
  ])('%j', (header, expected) => {
    expect(parseContentRange(header)).toEqual(expected);
  });

  test.each([
    undefined,
    '',
    'bytes */10', // unsatisfied-range form
    'bytes 0-9/*', // unknown total
    'bytes 9-0/10', // end before start
    'bytes 0-10/10', // end past the total
    'bytes 0-9',
    'bytes=0-9/10',
    'items 0-9/10',
    'bytes 0-9/10, 20-29/10',
    'bytes 0-9007199254740992/9007199254740993', // beyond 2^53
  ])('undefined for %j', (header) => {
    expect(parseContentRange(header)).toBeUndefined();
  });
});

describe('resolveRange', () => {
  const bounded = (start: number, end: number): ByteRange => ({ kind: 'bounded', start, end });
  const from = (start: number): ByteRange => ({ kind: 'from', start });
  const suffix = (length: number): ByteRange => ({ kind: 'suffix', length });

  test.each<[string, ByteRange, number, { start: number; end: number }]>([
    ['bounded inside', bounded(10, 19), 100, { start: 10, end: 20 }],
    ['bounded to the last byte', bounded(0, 99), 100, { start: 0, end: 100 }],
    ['bounded end clamped', bounded(90, 1000), 100, { start: 90, end: 100 }],
    ['bounded huge end clamped', bounded(0, Number.MAX_SAFE_INTEGER), 5, { start: 0, end: 5 }],
    ['single last byte', bounded(99, 99), 100, { start: 99, end: 100 }],
    ['from inside', from(40), 100, { start: 40, end: 100 }],
    ['from the last byte', from(99), 100, { start: 99, end: 100 }],
    ['from 0', from(0), 1, { start: 0, end: 1 }],
    ['suffix inside', suffix(10), 100, { start: 90, end: 100 }],
    ['suffix of exactly the size', suffix(100), 100, { start: 0, end: 100 }],
    ['suffix longer than the object', suffix(1000), 100, { start: 0, end: 100 }],
  ])('%s', (_, range, size, expected) => {
    expect(resolveRange(range, size)).toEqual(expected);
  });

  test.each<[string, ByteRange, number]>([
    ['bounded start at size', bounded(100, 200), 100],
    ['bounded start past size', bounded(101, 101), 100],
    ['from at size', from(100), 100],
    ['from past size', from(5000), 100],
    ['suffix 0', suffix(0), 100],
    ['suffix 0 of an empty object', suffix(0), 0],
    ['suffix of an empty object', suffix(10), 0],
    ['from 0 of an empty object', from(0), 0],
    ['bounded of an empty object', bounded(0, 0), 0],
  ])('416: %s', (_, range, size) => {
    expect(resolveRange(range, size)).toBeUndefined();
  });
});
