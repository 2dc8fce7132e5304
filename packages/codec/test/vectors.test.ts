import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildVectors,
  type FailureVector,
  type RoundTripVector,
  serializeVectors,
  VECTORS_PATH,
  type VectorFile,
} from '../scripts/generate-vectors';
import { openStreamCipher } from '../src/crypto/stream-cipher';
import { CHUNK_OVERHEAD } from '../src/format/constants';
import { ErrorCode } from '../src/format/errors';
import { ciphertextSize } from '../src/format/geometry';
import { decodeHeader, encodeHeader, fromDetachedHeader, toDetachedHeader } from '../src/format/header';
import { decryptBody, decryptBuffer } from '../src/io/decrypt';
import { decryptRange } from '../src/io/random-access';
import { DecryptingWriter } from '../src/node/decrypting-writer';
import { openEncryptedFile } from '../src/node/encrypted-file';
import { BACKENDS, type BackendName, backend, collect, failureCode, fromHex, hex, keyring, writeAll } from './helpers';

const committed = readFileSync(VECTORS_PATH, 'utf8');
const file = JSON.parse(committed) as VectorFile;
const pool = fromHex(file.plaintextPool);
const plaintextOf = (v: RoundTripVector) => pool.subarray(0, v.plaintextLength);
const C = 4096;

/** Where two long strings first differ (undefined if equal), with a little context for the failure message. */
function firstDifference(a: string, b: string): string | undefined {
  if (a === b) return undefined;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at ${i}: regenerated ${JSON.stringify(a.slice(i, i + 60))} vs committed ${JSON.stringify(b.slice(i, i + 60))}`;
}

describe('the committed vector file', () => {
  test.each(BACKENDS)('regenerating it with the %s backend reproduces it byte for byte', async (name) => {
    expect(firstDifference(serializeVectors(await buildVectors(name)), committed)).toBeUndefined();
  });

  test('is under 1 MB and covers the required sizes, contexts, size recording and failure classes', () => {
    expect(Buffer.byteLength(committed)).toBeLessThan(1_000_000);
    const sizes = [0, 1, C - 1, C, C + 1, 2 * C - 1, 2 * C, 2 * C + 1];
    for (const size of sizes) {
      for (const withContext of [false, true]) {
        for (const recorded of [false, true]) {
          const found = file.roundTrip.filter(
            (v) =>
              v.chunkExponent === 12 &&
              v.plaintextLength === size &&
              Object.keys(v.context).length > 0 === withContext &&
              v.plaintextSizeRecorded === recorded,
          );
          expect(found.map((v) => v.name)).toHaveLength(1);
        }
      }
    }
    expect(new Set(file.failure.map((v) => v.expect))).toEqual(new Set(Object.values(ErrorCode)));
    expect(new Set(file.roundTrip.map((v) => v.name)).size).toBe(file.roundTrip.length);
    expect(new Set(file.failure.map((v) => v.name)).size).toBe(file.failure.length);
  });
});

describe.each(BACKENDS)('round-trip vectors decrypt with the %s backend', (backendName: BackendName) => {
  test.each(file.roundTrip.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const on = await backend(backendName);
    const options = { keyring: keyring(v.keyId, fromHex(v.masterKey), on), backend: on, context: v.context };
    const plaintext = plaintextOf(v);
    const selfContained = fromHex(v.selfContained);
    const body = fromHex(v.body);
    const chunkSize = 2 ** v.chunkExponent;

    // The framings agree: self-contained = prefix(header) || body, and the detached strings hold the same header.
    const parsed = decodeHeader(selfContained);
    expect(parsed).toBeDefined();
    expect(hex(selfContained.subarray(parsed!.length))).toBe(v.body);
    expect(toDetachedHeader(parsed!.header)).toEqual(v.detached);
    const header = fromDetachedHeader(v.detached);
    expect(hex(encodeHeader(header))).toBe(hex(selfContained.subarray(0, parsed!.length)));
    expect(header.keyId).toBe(v.keyId);
    expect(header.stream.chunkSize).toBe(chunkSize);
    expect(header.stream.plaintextSize).toBe(v.plaintextSizeRecorded ? v.plaintextLength : undefined);
    expect(body.length).toBe(ciphertextSize(v.plaintextLength, chunkSize));

    expect(hex(await decryptBuffer(selfContained, options))).toBe(hex(plaintext));
    const cipher = await openStreamCipher(header, options);
    expect(hex(await collect(decryptBody(cipher, body)))).toBe(hex(plaintext));
  });
});

/** Every codec path that decodes a failure vector in its mode; each must report the vector's code. */
async function failureCodes(v: FailureVector, backendName: BackendName): Promise<Record<string, string>> {
  const on = await backend(backendName);
  const options = { keyring: keyring(v.keyId, fromHex(v.masterKey), on), backend: on, context: v.context };
  const body = v.body === undefined ? undefined : fromHex(v.body);
  const selfContained = v.selfContained === undefined ? undefined : fromHex(v.selfContained);
  const sink = () => {};
  const codes: Record<string, string> = {};
  if (v.decoder === 'stream') {
    if (selfContained) {
      codes.decryptBuffer = await failureCode(decryptBuffer(selfContained, options));
      codes.DecryptingWriter = await failureCode(writeAll(new DecryptingWriter(sink, options), [selfContained]));
    } else {
      codes.decryptBody = await failureCode(async () => {
        const cipher = await openStreamCipher(fromDetachedHeader(v.detached!), options);
        await collect(decryptBody(cipher, body!));
      });
      codes.DecryptingWriter = await failureCode(async () => {
        const header = fromDetachedHeader(v.detached!);
        await writeAll(new DecryptingWriter(sink, { ...options, header }), [body!]);
      });
    }
  } else if (selfContained) {
    const dir = mkdtempSync(join(tmpdir(), 'es-vectors-'));
    try {
      const path = join(dir, 'vector.es');
      writeFileSync(path, selfContained);
      codes.openEncryptedFile = await failureCode(async () => {
        const opened = await openEncryptedFile(path, options);
        try {
          await collect(opened.read(0, opened.plaintextSize));
        } finally {
          await opened.close();
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    codes.decryptRange = await failureCode(async () => {
      const cipher = await openStreamCipher(fromDetachedHeader(v.detached!), options);
      await collect(decryptRange(cipher, (s, e) => body!.subarray(s, e), body!.length, 0, Number.MAX_SAFE_INTEGER));
    });
  }
  return codes;
}

describe.each(BACKENDS)('failure vectors fail with their code on the %s backend', (backendName: BackendName) => {
  test.each(file.failure.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const codes = await failureCodes(v, backendName);
    expect(Object.keys(codes).length).toBeGreaterThan(0);
    for (const code of Object.values(codes)) expect(code).toBe(v.expect);
  });
});

test('a failure vector differs from a valid encoding only where it is meant to (controls)', async () => {
  // The same keys and context decode the untouched stream of each single-stream group: proof that the
  // failure comes from the modification and not from the keyring or context the vector names.
  const on = await backend('native');
  const unknown = file.failure.find((v) => v.name === 'unknown-key-id')!;
  const bytes = fromHex(unknown.selfContained!);
  const keyIdEnd = 96 + unknown.keyId.length;
  bytes[keyIdEnd] = (bytes[keyIdEnd] as number) - 1; // undo the change to the key id
  const options = { keyring: keyring(unknown.keyId, fromHex(unknown.masterKey), on), backend: on };
  expect(hex(await decryptBuffer(bytes, options))).toBe(hex(pool.subarray(0, 10)));

  const trailing = file.failure.find((v) => v.name === 'trailing-data-one-byte')!;
  const whole = fromHex(trailing.selfContained!);
  const trailingOptions = { keyring: keyring(trailing.keyId, fromHex(trailing.masterKey), on), backend: on };
  expect(hex(await decryptBuffer(whole.subarray(0, -1), trailingOptions))).toBe(hex(pool.subarray(0, C + 10)));
  expect(whole.length - 1 - decodeHeader(whole)!.length).toBe(ciphertextSize(C + 10, C));
  expect(CHUNK_OVERHEAD).toBe(40);
});
