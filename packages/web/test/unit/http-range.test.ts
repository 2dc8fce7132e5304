import { parsePlaintextRange } from '../../src/http-range';

describe('parsePlaintextRange (RFC 9110 §14)', () => {
  test.each([
    [undefined, 100, { kind: 'full', start: 0, end: 100 }],
    ['bytes=0-0', 100, { kind: 'partial', start: 0, end: 1 }],
    ['bytes=10-19', 100, { kind: 'partial', start: 10, end: 20 }],
    ['bytes=10-', 100, { kind: 'partial', start: 10, end: 100 }],
    ['bytes=0-', 100, { kind: 'partial', start: 0, end: 100 }],
    ['bytes=90-200', 100, { kind: 'partial', start: 90, end: 100 }],
    ['bytes=-10', 100, { kind: 'partial', start: 90, end: 100 }],
    ['bytes=-1000', 100, { kind: 'partial', start: 0, end: 100 }],
    ['bytes=99-99', 100, { kind: 'partial', start: 99, end: 100 }],
    [' bytes = 5 - 6 ', 100, { kind: 'partial', start: 5, end: 7 }],
    ['BYTES=5-6', 100, { kind: 'partial', start: 5, end: 7 }],
    ['bytes=100-', 100, { kind: 'unsatisfiable' }],
    ['bytes=100-100', 100, { kind: 'unsatisfiable' }],
    ['bytes=-0', 100, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=-5', 0, { kind: 'unsatisfiable' }],
    ['bytes=99999999999999999999-', 100, { kind: 'unsatisfiable' }],
    // Ignored (the whole representation): several ranges, malformed, reversed, other units.
    ['bytes=0-1,3-4', 100, { kind: 'full', start: 0, end: 100 }],
    ['bytes=5-4', 100, { kind: 'full', start: 0, end: 100 }],
    ['bytes=-', 100, { kind: 'full', start: 0, end: 100 }],
    ['bytes=a-b', 100, { kind: 'full', start: 0, end: 100 }],
    ['items=0-5', 100, { kind: 'full', start: 0, end: 100 }],
    ['bytes=1.5-2', 100, { kind: 'full', start: 0, end: 100 }],
  ])('%p of %i bytes', (header, size, expected) => {
    expect(parsePlaintextRange(header, size)).toEqual(expected);
  });

  test('a size that is not one is a RangeError', () => {
    expect(() => parsePlaintextRange('bytes=0-', -1)).toThrow(RangeError);
    expect(() => parsePlaintextRange('bytes=0-', 1.5)).toThrow(RangeError);
  });
});
