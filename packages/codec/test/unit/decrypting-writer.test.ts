import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CryptoBackend } from '../../src/crypto/backend/backend';
import { createStreamCipher } from '../../src/crypto/stream-cipher';
import { ErrorCode } from '../../src/format/errors';
import { decodeHeader } from '../../src/format/header';
import { encryptBody, encryptBuffer } from '../../src/io/encrypt';
import { DecryptingWriter, type PlaintextSink } from '../../src/node/decrypting-writer';
import {
  backend,
  C,
  collect,
  concat,
  failureCode,
  filler,
  hex,
  keyring,
  RecordingSink,
  STRIDE,
  splitAt,
  writeAll,
} from '../helpers';

let on: CryptoBackend;
let options: { keyring: ReturnType<typeof keyring>; backend: CryptoBackend };
const plaintext = filler(3 * C + 123, 21);
let ciphertext: Uint8Array;
let prefixLength: number;

beforeAll(async () => {
  on = await backend('native');
  options = { keyring: keyring('writer', filler(32, 88), on), backend: on };
  ciphertext = await encryptBuffer(plaintext, { ...options, chunkSize: C });
  prefixLength = decodeHeader(ciphertext)!.length;
});

describe('DecryptingWriter', () => {
  test('to a Writable: plaintext chunk by chunk, then the sink is ended', async () => {
    const sink = new RecordingSink();
    await writeAll(new DecryptingWriter(sink, options), splitAt(ciphertext, [7, 100, 5000, 9000]));
    expect(hex(sink.bytes)).toBe(hex(plaintext));
    expect(sink.ended).toBe(true);
  });

  test('nothing reaches the sink before a chunk is complete and authenticated', async () => {
    const sink = new RecordingSink();
    const writer = new DecryptingWriter(sink, options);
    const write = (bytes: Uint8Array) =>
      new Promise<void>((resolve, reject) => writer.write(bytes, (e) => (e ? reject(e) : resolve())));
    await write(ciphertext.subarray(0, prefixLength + STRIDE - 1));
    expect(sink.bytes.length).toBe(0);
    await write(ciphertext.subarray(prefixLength + STRIDE - 1, prefixLength + STRIDE));
    expect(hex(sink.bytes)).toBe(hex(plaintext.subarray(0, C)));
    await write(ciphertext.subarray(prefixLength + STRIDE, ciphertext.length - 1));
    expect(sink.bytes.length).toBe(3 * C); // the final chunk lacks a byte
    await writeAll(writer, [ciphertext.subarray(ciphertext.length - 1)]);
    expect(hex(sink.bytes)).toBe(hex(plaintext));
    expect(sink.ended).toBe(true);
  });

  test('to a callback, sync or async, one byte at a time', async () => {
    for (const async of [false, true]) {
      const received: Uint8Array[] = [];
      const sink: PlaintextSink = async
        ? async (p) => {
            await new Promise((r) => setImmediate(r));
            received.push(p.slice());
          }
        : (p) => {
            received.push(p.slice());
          };
      const bytes = await encryptBuffer(filler(C + 3, 2), { ...options, chunkSize: C });
      await writeAll(new DecryptingWriter(sink, options), splitAt(bytes, [...bytes.keys()]));
      expect(hex(concat(...received))).toBe(hex(filler(C + 3, 2)));
    }
  });

  test('detached framing with the header option', async () => {
    const cipher = await createStreamCipher({ ...options, chunkSize: C, plaintextSize: plaintext.length });
    const body = await collect(encryptBody(cipher, plaintext));
    const sink = new RecordingSink();
    await writeAll(
      new DecryptingWriter(sink, { ...options, header: cipher.header }),
      splitAt(body, [1, STRIDE, STRIDE + 1]),
    );
    expect(hex(sink.bytes)).toBe(hex(plaintext));
  });

  test('in a pipeline, with backpressure from a slow sink', async () => {
    const received: Uint8Array[] = [];
    const slow = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _e, callback) {
        received.push(new Uint8Array(chunk));
        setTimeout(callback, 1);
      },
    });
    await pipeline(
      Readable.from(splitAt(ciphertext, [3000, 6000, 9000]).map((p) => Buffer.from(p))),
      new DecryptingWriter(slow, options),
    );
    expect(hex(concat(...received))).toBe(hex(plaintext));
    expect(slow.writableFinished).toBe(true);
  });

  test.each([
    ['nothing written', 0],
    ['inside the stream header', 50],
    ['inside the key block', 100],
    ['after the prefix', -1],
    ['at a chunk boundary', -2],
    ['inside the final chunk', -3],
  ])('ending early (%s) fails with TRUNCATED; the Writable sink is destroyed, not ended', async (_name, at) => {
    const cut =
      at >= 0 ? at : at === -1 ? prefixLength : at === -2 ? prefixLength + 2 * STRIDE : ciphertext.length - 10;
    const released = at >= 0 || at === -1 ? 0 : 2 * C + (at === -3 ? C : 0);
    const sink = new RecordingSink();
    const code = await failureCode(writeAll(new DecryptingWriter(sink, options), [ciphertext.subarray(0, cut)]));
    expect(code).toBe(ErrorCode.TRUNCATED);
    expect(sink.ended).toBe(false);
    expect(sink.destroyed).toBe(true);
    expect(sink.errors.map((e) => (e as { code?: string }).code)).toEqual([ErrorCode.TRUNCATED]);
    expect(hex(sink.bytes)).toBe(hex(plaintext.subarray(0, released)));
    // A callback sink receives the same and nothing more.
    const received: Uint8Array[] = [];
    const callbackCode = await failureCode(
      writeAll(
        new DecryptingWriter((p) => {
          received.push(p.slice());
        }, options),
        [ciphertext.subarray(0, cut)],
      ),
    );
    expect([callbackCode, hex(concat(...received))]).toEqual([
      ErrorCode.TRUNCATED,
      hex(plaintext.subarray(0, released)),
    ]);
  });

  test('a failing sink fails the writer', async () => {
    const broken = new Writable({
      write(_c, _e, callback) {
        callback(new Error('disk full'));
      },
    });
    broken.on('error', () => {});
    await expect(writeAll(new DecryptingWriter(broken, options), [ciphertext])).rejects.toThrow('disk full');
    const throwing = new DecryptingWriter(() => {
      throw new RangeError('callback refused');
    }, options);
    await expect(writeAll(throwing, [ciphertext])).rejects.toBeInstanceOf(RangeError);
  });

  test('key and context errors surface as the writer’s error', async () => {
    const wrong = { keyring: keyring('writer', filler(32, 1), on), backend: on };
    const sink = new PassThrough().resume();
    const sinkErrors: unknown[] = [];
    sink.on('error', (e) => sinkErrors.push(e));
    expect(await failureCode(writeAll(new DecryptingWriter(sink, wrong), [ciphertext]))).toBe(
      ErrorCode.KEY_UNWRAP_FAILED,
    );
    expect(sinkErrors).toHaveLength(1);
    expect(
      await failureCode(writeAll(new DecryptingWriter(() => {}, { ...options, context: { a: 'b' } }), [ciphertext])),
    ).toBe(ErrorCode.CONTEXT_MISMATCH);
  });

  test('a sink that is neither a Writable nor a function is a TypeError', () => {
    for (const bad of [null, undefined, 42, 'file.txt', {}]) {
      expect(() => new DecryptingWriter(bad as unknown as PlaintextSink, options)).toThrow(TypeError);
    }
  });
});
