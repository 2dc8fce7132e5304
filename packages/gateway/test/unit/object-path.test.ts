import { resolveObjectPath } from '../../src/object-path';

describe('resolveObjectPath with an allow-list', () => {
  const scope = { allow: ['media/pub', 'media/docs/', 'open'] };

  test.each([
    ['/media/pub/a.webm', { bucket: 'media', key: 'pub/a.webm' }],
    ['/media/pub/deep/a.webm', { bucket: 'media', key: 'pub/deep/a.webm' }],
    ['/media/docs/x.pdf', { bucket: 'media', key: 'docs/x.pdf' }],
    ['/open/anything', { bucket: 'open', key: 'anything' }],
  ])('%s is in scope', (path, expected) => {
    expect(resolveObjectPath(path, scope)).toEqual(expected);
  });

  test.each([
    ['/media/public/a.webm'], // shares the letters of `pub`, not the folder
    ['/media/pub-private/a.webm'],
    ['/media/pub'], // the folder itself is no object
    ['/media/docsx/x.pdf'],
    ['/media/other/x'],
    ['/opener/anything'],
  ])('%s is out of scope', (path) => {
    expect(resolveObjectPath(path, scope)).toBeUndefined();
  });
});

describe('resolveObjectPath with one bucket', () => {
  test('keys are the path under the prefix', () => {
    expect(resolveObjectPath('/a/b.txt', { bucket: 'b', prefix: 'site/' })).toEqual({
      bucket: 'b',
      key: 'site/a/b.txt',
    });
  });

  test.each([['/'], ['/a/../b'], ['/a/%2e%2e/b'], ['/a%2fb'], ['/a//b'], ['relative']])('%s is refused', (path) => {
    expect(resolveObjectPath(path, { bucket: 'b' })).toBeUndefined();
  });
});
