/**
 * What `put` sends, request by request (issue 12): input within one part is
 * one PutObject through the encrypting client, not a four-request multipart
 * upload; larger input is multipart. The built binary talks to the real S3
 * server through a pass-through proxy that logs every request (the spawned
 * process's requests cannot be counted in-process, as countRequests does).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FaultProxy, type ProxyLogEntry, startFaultProxy, useBucket } from '@encrypted-stream/test-support';
import { expectOk, jsonOf, run } from './helpers/cli';
import { ciphertextSize, randomData, useTempDir } from './helpers/files';
import { s3Flags } from './helpers/s3';

const MiB = 1024 * 1024;
const dir = useTempDir('requests');
const bucket = useBucket('requests');
const path = (name: string) => join(dir.path, name);
const url = (key: string) => `s3://${bucket.name}/${key}`;
let keyring: string;
let proxy: FaultProxy;

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '--id', 'requests-key']));
  proxy = await startFaultProxy();
});

afterAll(async () => {
  await proxy?.close();
});

/** The S3 operation a logged request was. */
function operation({ method, query }: ProxyLogEntry): string {
  const q = new URLSearchParams(query);
  if (method === 'PUT') return q.has('partNumber') ? 'UploadPart' : 'PutObject';
  if (method === 'POST') return q.has('uploads') ? 'CreateMultipartUpload' : 'CompleteMultipartUpload';
  if (method === 'GET') return q.has('uploadId') ? 'ListParts' : 'GetObject';
  if (method === 'DELETE') return q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  if (method === 'HEAD') return 'HeadObject';
  return `${method} ${query}`;
}

/** Runs put through the proxy and returns its result and the operations it sent, in order. */
async function putThroughProxy(source: string, key: string, options: { input?: Buffer } = {}, ...extra: string[]) {
  proxy.reset();
  const args = ['put', source, url(key), '-k', keyring, ...s3Flags(proxy.endpoint), '--json', ...extra];
  const result = jsonOf(await run([...args, '--state-dir', path('state')], options));
  return { result, operations: proxy.log.map(operation) };
}

/** What the CLI reads back: the plaintext size and whether the header records it. */
async function described(key: string) {
  return jsonOf(await run(['head', url(key), '-k', keyring, ...s3Flags(), '--json']));
}

describe('input within one part: one PutObject', () => {
  test.each([
    [0, 'an empty file'],
    [1000, 'a 1000-byte file'],
    [8 * MiB, 'a file of exactly one default part (8 MiB)'],
  ])('%i bytes (%s): one request, size recorded, reads back', async (size, _label) => {
    const key = `file/${size}`;
    const plaintext = randomData(size);
    writeFileSync(path(`file-${size}`), plaintext);
    const { result, operations } = await putThroughProxy(path(`file-${size}`), key);
    expect(operations).toEqual(['PutObject']);
    expect(result).toMatchObject({ plaintextBytes: size, parts: 1 });
    expect(await described(key)).toMatchObject({
      plaintextBytes: size,
      storedBytes: ciphertextSize(size),
      sizeAuthenticated: true,
    });
    const back = await run(['get', url(key), '-', '-k', keyring, ...s3Flags()]);
    expectOk(back);
    expect(back.stdout.equals(plaintext)).toBe(true);
  });

  test('stdin that ends within the first part: one request, and now its size is recorded too', async () => {
    const plaintext = randomData(300_000);
    const { result, operations } = await putThroughProxy('-', 'stdin/small', { input: plaintext });
    expect(operations).toEqual(['PutObject']);
    expect(result).toEqual({ bucket: bucket.name, key: 'stdin/small', plaintextBytes: 300_000, parts: 1 });
    expect(await described('stdin/small')).toMatchObject({ plaintextBytes: 300_000, sizeAuthenticated: true });
  });

  test('--chunk-size applies to the single PutObject too', async () => {
    writeFileSync(path('chunked'), randomData(100_000));
    const { operations } = await putThroughProxy(path('chunked'), 'file/chunked', {}, '--chunk-size', '16KiB');
    expect(operations).toEqual(['PutObject']);
    expect(await described('file/chunked')).toMatchObject({ chunkSize: 16384, chunks: 7 });
  });
});

describe('input larger than one part: multipart', () => {
  test('a 12,000,001-byte file in 5 MiB parts: create, three parts, list, complete', async () => {
    writeFileSync(path('large'), randomData(12_000_001));
    const { result, operations } = await putThroughProxy(path('large'), 'file/large', {}, '--part-size', '5MiB');
    expect(result).toMatchObject({ parts: 3, partsUploaded: 3 });
    expect(operations.slice(0, 6)).toEqual([
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'UploadPart',
      'ListParts',
      'CompleteMultipartUpload',
    ]);
    // Then a HeadObject only on servers (Ceph RGW) whose completion answer carries no ETag.
    expect(operations.slice(6).every((o) => o === 'HeadObject')).toBe(true);
  });

  test('stdin one byte longer than a part: two parts, no size recorded', async () => {
    const plaintext = randomData(5 * MiB + 1);
    const { result, operations } = await putThroughProxy(
      '-',
      'stdin/large',
      { input: plaintext },
      '--part-size',
      '5MiB',
    );
    expect(result).toEqual({ bucket: bucket.name, key: 'stdin/large', plaintextBytes: 5 * MiB + 1, parts: 2 });
    expect(operations.filter((o) => o === 'UploadPart')).toHaveLength(2);
    expect(operations[0]).toBe('CreateMultipartUpload');
    expect(await described('stdin/large')).toMatchObject({ plaintextBytes: 5 * MiB + 1, sizeAuthenticated: false });
  });

  test('stdin of exactly one part is one PutObject, of exactly two parts two parts (no empty third)', async () => {
    const one = await putThroughProxy('-', 'stdin/one', { input: randomData(5 * MiB) }, '--part-size', '5MiB');
    expect(one.operations).toEqual(['PutObject']);
    const two = await putThroughProxy('-', 'stdin/two', { input: randomData(10 * MiB) }, '--part-size', '5MiB');
    expect(two.result).toMatchObject({ parts: 2 });
    expect(two.operations.filter((o) => o === 'UploadPart')).toHaveLength(2);
  });
});
