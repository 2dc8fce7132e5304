import { parseCopySource } from '../../src/copy-object';
import { copySourceOf } from '../../src/rotate';

describe('parseCopySource', () => {
  test.each([
    ['bucket/key', { bucket: 'bucket', key: 'key' }],
    ['/bucket/key', { bucket: 'bucket', key: 'key' }],
    ['bucket/dir/sub/file.txt', { bucket: 'bucket', key: 'dir/sub/file.txt' }],
    ['bucket/a%20b%2Bc', { bucket: 'bucket', key: 'a b+c' }],
    ['bucket/dir%2Ffile', { bucket: 'bucket', key: 'dir/file' }],
    ['bucket/caf%C3%A9%20%F0%9F%98%80', { bucket: 'bucket', key: 'café 😀' }],
    ['bucket/what%3F', { bucket: 'bucket', key: 'what?' }],
    ['bucket//leading-slash-key', { bucket: 'bucket', key: '/leading-slash-key' }],
    ['bucket/key?versionId=v1', { bucket: 'bucket', key: 'key', versionId: 'v1' }],
    ['/bucket/a%3Fb?versionId=3%2Fx', { bucket: 'bucket', key: 'a?b', versionId: '3/x' }],
    ['bucket/key?other=1', { bucket: 'bucket', key: 'key' }],
    ['bucket/key?versionId=', { bucket: 'bucket', key: 'key' }],
  ])('%s', (source, expected) => {
    expect(parseCopySource(source)).toEqual(expected);
  });

  test.each(['bucket', '/bucket', '', '/', '/key-without-bucket', '?versionId=1'])('RangeError for %j', (source) => {
    expect(() => parseCopySource(source)).toThrow(RangeError);
  });
});

describe('copySourceOf', () => {
  const keys = [
    'plain',
    'dir/sub/file.txt',
    'with space',
    'plus+sign',
    'question?mark',
    'hash#and&amp=eq',
    'percent%20literal',
    'literal%2Fslash',
    'unicode/café/日本語/😀',
    '/leading/slash',
    'trailing/',
    'a//double',
    "quote'(paren)*!~",
    'semi;colon,comma:colon@at$dollar',
  ];

  test.each(keys)('round trips %j', (key) => {
    const source = copySourceOf('my-bucket', key);
    expect(parseCopySource(source)).toEqual({ bucket: 'my-bucket', key });
    expect(parseCopySource(`/${source}`)).toEqual({ bucket: 'my-bucket', key });
    expect(parseCopySource(`${source}?versionId=abc`)).toEqual({ bucket: 'my-bucket', key, versionId: 'abc' });
  });

  test('encodes what S3 needs encoded and keeps slashes', () => {
    expect(copySourceOf('b', 'dir/a b+c?d')).toBe('b/dir/a%20b%2Bc%3Fd');
    expect(copySourceOf('b', 'é')).toBe('b/%C3%A9');
    expect(copySourceOf('b', 'x/%2F')).toBe('b/x/%252F');
  });
});
