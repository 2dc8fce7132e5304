import { safeMediaType } from '../../src/media-type';
import { presignedUrlExpiry } from '../../src/presigned-expiry';
import { checkPresignedGet } from '../../src/presigned-get';

test('presignedUrlExpiry: X-Amz-Date plus X-Amz-Expires, or undefined', () => {
  expect(presignedUrlExpiry('https://s3.test/b/k?X-Amz-Date=20250102T030405Z&X-Amz-Expires=900')).toBe(
    Date.UTC(2025, 0, 2, 3, 4, 5) + 900_000,
  );
  expect(presignedUrlExpiry('https://s3.test/b/k?X-Amz-Date=20250102T030405Z')).toBeUndefined();
  expect(presignedUrlExpiry('https://s3.test/b/k?X-Amz-Date=2025-01-02&X-Amz-Expires=900')).toBeUndefined();
  expect(presignedUrlExpiry('https://s3.test/b/k?X-Amz-Date=20250102T030405Z&X-Amz-Expires=-5')).toBeUndefined();
  expect(presignedUrlExpiry('not a url')).toBeUndefined();
});

test('safeMediaType: audio and video pass, anything that could be a document does not', () => {
  for (const type of ['video/webm', 'video/mp4; codecs="avc1.42E01E"', 'audio/ogg', 'audio/mpeg']) {
    expect(safeMediaType(type)).toBe(type);
  }
  for (const type of [
    'text/html',
    'image/svg+xml',
    'application/xhtml+xml',
    'video/webm\r\nx: y',
    'video/',
    '',
    null,
  ]) {
    expect(safeMediaType(type)).toBe('application/octet-stream');
  }
});

describe('checkPresignedGet: what an app server answers is checked for shape', () => {
  const good = {
    method: 'GET',
    url: 'https://s3.test/b/media/k?X-Amz-Signature=abc',
    headers: { 'if-match': '"e"' },
    bucket: 'b',
    key: 'media/k',
    encryption: { 'es-h': 'h', 'es-k': 'k', 'es-w': 'w' },
    ciphertextSize: 100,
  };

  test('a good answer passes, as is', () => {
    expect(checkPresignedGet(good)).toBe(good);
    expect(checkPresignedGet(good, { key: 'media/k', bucket: 'b' })).toBe(good);
  });

  test.each([
    ['no object', null],
    ['a javascript: url', { ...good, url: 'javascript:alert(1)' }],
    ['a relative url', { ...good, url: '/b/k' }],
    ['a PUT', { ...good, method: 'PUT' }],
    ['a non-string header', { ...good, headers: { range: 5 } }],
    ['no encryption', { ...good, encryption: undefined }],
    ['a negative size', { ...good, ciphertextSize: -1 }],
    ['a size that is a string', { ...good, ciphertextSize: '100' }],
  ])('%s is ES_RESOLVE_FAILED', (_what, value) => {
    expect(() => checkPresignedGet(value)).toThrow(expect.objectContaining({ code: 'ES_RESOLVE_FAILED' }));
  });

  test('an answer for another object than the one asked for is refused', () => {
    expect(() => checkPresignedGet(good, { key: 'media/other' })).toThrow(
      expect.objectContaining({ code: 'ES_RESOLVE_FAILED' }),
    );
    expect(() => checkPresignedGet(good, { key: 'media/k', bucket: 'c' })).toThrow(
      expect.objectContaining({ code: 'ES_RESOLVE_FAILED' }),
    );
  });

  test('with an expected object, the URL must be a GET of the object the answer names', () => {
    const hosted = { ...good, url: 'https://b.s3.test/media/k?X-Amz-Signature=abc' };
    expect(checkPresignedGet(hosted, { key: 'media/k' })).toBe(hosted);
    const encoded = { ...good, url: 'https://s3.test/b/media/k%20%C3%A9?x=1', key: 'media/k é' };
    expect(checkPresignedGet(encoded, { key: 'media/k é' })).toBe(encoded);
    for (const url of [
      'https://s3.test/b/media/other?X-Amz-Signature=abc', // another key
      'https://s3.test/c/media/k', // another bucket
      'https://c.s3.test/media/k', // another bucket, virtual-hosted
      'https://s3.test/b/media/k/x', // a longer key
      'https://s3.test/x/b/media/k', // bucket x, key b/media/k
      'https://s3.test/b/media/%E0%A4%A', // not decodable
    ]) {
      expect(() => checkPresignedGet({ ...good, url }, { key: 'media/k' })).toThrow(
        expect.objectContaining({ code: 'ES_RESOLVE_FAILED' }),
      );
    }
    // Without an expected object only the shape is checked.
    expect(checkPresignedGet({ ...good, url: 'https://cdn.test/x' })).toBeDefined();
  });
});
