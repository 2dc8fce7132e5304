/**
 * Generates the known-answer vectors of format v1: `test/vectors/v1.json`.
 *
 *   pnpm --filter @encrypted-stream/codec vectors
 *
 * Every "random" byte (data keys, stream ids, nonces, master keys, plaintexts)
 * comes from {@link seededRandom}: the n-th request of `length` bytes under a
 * label returns libsodium's `randombytes_buf_deterministic(length, seed)` (the
 * ChaCha20-IETF keystream under key `seed`, nonce "LibsodiumDRG") with
 * `seed = SHA-256(label || u64(n))`. Each vector has its own label (its name),
 * so the output is byte-for-byte reproducible and vectors share no randomness;
 * appending a vector changes no other.
 * `test/vectors.test.ts` regenerates the file with both backends and compares.
 *
 * JSON schema (all byte strings are lowercase hex unless noted):
 *
 * ```
 * {
 *   "format": "encrypted-stream v1",
 *   "generator": "packages/codec/scripts/generate-vectors.ts",
 *   "plaintextPool": hex,          // every plaintext is plaintextPool[0 .. plaintextLength)
 *   "roundTrip": [{
 *     "name": string,
 *     "chunkExponent": number,     // C = 2^chunkExponent
 *     "keyId": string, "masterKey": hex,   // the one key of a local keyring (FORMAT.md §6)
 *     "context": { [k: string]: string },  // {} = no context
 *     "plaintextLength": number,
 *     "plaintextSizeRecorded": boolean,    // header flag bit 0
 *     "selfContained": hex,        // stream header || key block || chunks
 *     "detached": { "h": string, "k": string, "w": string },  // FORMAT.md §7 strings
 *     "body": hex                  // the chunks (selfContained minus its prefix)
 *   }],
 *   "failure": [{
 *     "name": string,
 *     "class": string,             // failure class, e.g. "auth-failed"
 *     "keyId": string, "masterKey": hex,   // what the decoder's keyring holds
 *     "context": { ... },          // the context the decoder is given
 *     "decoder": "stream" | "random-access",
 *         // stream: decode front to back (decryptBuffer / decryptBody);
 *         // random-access: the body size is known first and checked against
 *         // the header (FORMAT.md §8), as decryptRange/openEncryptedFile do
 *     "selfContained": hex          // either this,
 *     | "detached": { h, k, w }, "body": hex,   // or the detached framing
 *     "expect": string             // the ErrorCode value a decoder must report
 *   }],
 *   "recipient": { "wrap", "unwrapFailure", "stream" }   // X25519 recipients: see scripts/recipient-vectors.ts
 * }
 * ```
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CryptoBackend, RandomSource } from '../src/crypto/backend/backend';
import { createLibsodiumBackend } from '../src/crypto/backend/libsodium-backend';
import { loadSodium, type Sodium } from '../src/crypto/backend/sodium';
import type { Keyring } from '../src/crypto/keyring';
import { LocalKeyring } from '../src/crypto/local-keyring';
import { createStreamCipher, StreamCipher } from '../src/crypto/stream-cipher';
import { deriveKeys } from '../src/crypto/stream-keys';
import { ChunkEncoder } from '../src/engine/chunk-encoder';
import { KEY_SIZE, STREAM_ID_SIZE } from '../src/format/constants';
import type { EncryptionContext } from '../src/format/context';
import { ErrorCode } from '../src/format/errors';
import {
  type DetachedHeader,
  decodeHeader,
  type EncryptionHeader,
  encodeHeader,
  encodeStreamHeader,
  makeEncryptionHeader,
  toDetachedHeader,
} from '../src/format/header';
import { encryptBuffer, encryptStream } from '../src/io/encrypt';
import { collectBytes } from '../src/io/sources';
import { createNativeBackend } from '../src/node/native-backend';
import { buildRecipientVectors, type RecipientVectors } from './recipient-vectors';

export type BackendName = 'native' | 'libsodium';

export interface RoundTripVector {
  readonly name: string;
  readonly chunkExponent: number;
  readonly keyId: string;
  readonly masterKey: string;
  readonly context: EncryptionContext;
  readonly plaintextLength: number;
  readonly plaintextSizeRecorded: boolean;
  readonly selfContained: string;
  readonly detached: DetachedHeader;
  readonly body: string;
}

export interface FailureVector {
  readonly name: string;
  readonly class: string;
  readonly keyId: string;
  readonly masterKey: string;
  readonly context: EncryptionContext;
  readonly decoder: 'stream' | 'random-access';
  readonly selfContained?: string;
  readonly detached?: DetachedHeader;
  readonly body?: string;
  readonly expect: string;
}

export interface VectorFile {
  readonly format: 'encrypted-stream v1';
  readonly generator: string;
  readonly plaintextPool: string;
  readonly roundTrip: RoundTripVector[];
  readonly failure: FailureVector[];
  readonly recipient: RecipientVectors;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** The deterministic random source described at the top of this file. */
export function seededRandom(sodium: Sodium, label: string): RandomSource {
  const prefix = new TextEncoder().encode(label);
  let counter = 0n;
  return (length) => {
    const input = new Uint8Array(prefix.length + 8);
    input.set(prefix, 0);
    new DataView(input.buffer).setBigUint64(prefix.length, counter++);
    return sodium.randombytes_buf_deterministic(length, sodium.crypto_hash_sha256(input));
  };
}

/** A backend of the given kind whose randomness is {@link seededRandom}(label). */
export function seededBackend(sodium: Sodium, name: BackendName, label: string): CryptoBackend {
  const random = seededRandom(sodium, label);
  return name === 'native' ? createNativeBackend(sodium, random) : createLibsodiumBackend(sodium, random);
}

/**
 * A "malicious encrypter" holding the master key: a stream whose header
 * carries `commitment` from another data key than the one it wraps (and
 * encrypts under). Decoders must stop with ES_KEY_COMMITMENT_MISMATCH.
 */
export async function forgeCommitmentStream(
  backend: CryptoBackend,
  keyring: Keyring,
  plaintext: Uint8Array,
  chunkSize: number,
  context?: EncryptionContext,
  commitToOwnKey = false, // a control: then the stream is valid
): Promise<{ header: EncryptionHeader; body: Uint8Array }> {
  const dataKey = backend.randomBytes(KEY_SIZE);
  const otherKey = backend.randomBytes(KEY_SIZE);
  const streamId = backend.randomBytes(STREAM_ID_SIZE);
  const keys = deriveKeys(backend, dataKey, streamId, context);
  const other = deriveKeys(backend, otherKey, streamId, context);
  const streamBytes = encodeStreamHeader({
    chunkSize,
    plaintextSize: plaintext.length,
    streamId,
    commitment: commitToOwnKey ? keys.commitment : other.commitment,
    contextTag: keys.contextTag,
  });
  const header = makeEncryptionHeader(streamBytes, await keyring.wrap(dataKey, streamBytes));
  const cipher = new StreamCipher(header, keys, backend);
  return { header, body: encodeChunks(cipher, plaintext) };
}

/** Chunks of `plaintext` under `cipher`, whatever size its header records. */
export function encodeChunks(cipher: StreamCipher, plaintext: Uint8Array): Uint8Array {
  const encoder = new ChunkEncoder(cipher);
  return Buffer.concat([...encoder.push(plaintext), ...encoder.finish()]);
}

const CHUNK_EXPONENT = 12;
const C = 2 ** CHUNK_EXPONENT;
const ROUND_TRIP_SIZES = [0, 1, C - 1, C, C + 1, 2 * C - 1, 2 * C, 2 * C + 1];
const CONTEXT: EncryptionContext = {
  bucket: 'example-bucket',
  key: 'photos/2024/cat.jpg',
  // UTF-8 byte order puts U+FF21 (EF BC A1) before U+1F600 (F0 9F 98 80); UTF-16 order would not.
  '\u{1F600}': 'emoji',
  '\uFF21': 'fullwidth A',
};
const OTHER_CONTEXT: EncryptionContext = { ...CONTEXT, key: 'photos/2024/dog.jpg' };

/** Failure class names used in the file, by the code a decoder must report. */
const CLASS_OF_CODE: Record<string, string> = {
  [ErrorCode.AUTH_FAILED]: 'auth-failed',
  [ErrorCode.MALFORMED]: 'malformed',
  [ErrorCode.UNSUPPORTED_VERSION]: 'unsupported-version',
  [ErrorCode.UNKNOWN_KEY]: 'unknown-key',
  [ErrorCode.KEY_UNWRAP_FAILED]: 'unwrap-failed',
  [ErrorCode.KEY_COMMITMENT_MISMATCH]: 'key-commitment-mismatch',
  [ErrorCode.CONTEXT_MISMATCH]: 'context-mismatch',
  [ErrorCode.TRUNCATED]: 'truncated',
  [ErrorCode.TRAILING_DATA]: 'trailing-data',
  [ErrorCode.SIZE_MISMATCH]: 'size-mismatch',
};

interface Encoded {
  readonly header: EncryptionHeader;
  readonly prefix: Uint8Array;
  readonly body: Uint8Array;
}

function split(selfContained: Uint8Array): Encoded {
  const parsed = decodeHeader(selfContained);
  if (!parsed) throw new Error('generator bug: no header');
  return {
    header: parsed.header,
    prefix: selfContained.subarray(0, parsed.length),
    body: selfContained.subarray(parsed.length),
  };
}

/** Builds the whole vector file with the given backend kind (both must give identical output). */
export async function buildVectors(backendName: BackendName = 'native'): Promise<VectorFile> {
  const sodium = await loadSodium();
  const pool = seededRandom(sodium, 'v1/plaintext-pool')(2 * C + 1);

  const setup = (label: string, keyId: string) => {
    const backend = seededBackend(sodium, backendName, `v1/${label}`);
    const masterKey = backend.randomBytes(KEY_SIZE);
    const keyring = new LocalKeyring({ [keyId]: masterKey }, keyId, backend);
    return { backend, masterKey, keyring };
  };

  const roundTrip: RoundTripVector[] = [];
  const addRoundTrip = async (
    name: string,
    chunkExponent: number,
    length: number,
    context: EncryptionContext,
    recorded: boolean,
  ) => {
    const keyId = `vector-key-${roundTrip.length % 3}`;
    const { backend, masterKey, keyring } = setup(name, keyId);
    const plaintext = pool.subarray(0, length);
    const options = { keyring, backend, context, chunkSize: 2 ** chunkExponent };
    const bytes = recorded
      ? await encryptBuffer(plaintext, options)
      : await collectBytes(encryptStream(plaintext, options));
    const { header, body } = split(bytes);
    roundTrip.push({
      name,
      chunkExponent,
      keyId,
      masterKey: hex(masterKey),
      context,
      plaintextLength: length,
      plaintextSizeRecorded: recorded,
      selfContained: hex(bytes),
      detached: toDetachedHeader(header),
      body: hex(body),
    });
  };
  for (const length of ROUND_TRIP_SIZES) {
    for (const withContext of [false, true]) {
      for (const recorded of [true, false]) {
        const name = `c${C}-p${length}${withContext ? '-context' : ''}-${recorded ? 'sized' : 'unsized'}`;
        await addRoundTrip(name, CHUNK_EXPONENT, length, withContext ? CONTEXT : {}, recorded);
      }
    }
  }
  await addRoundTrip('c65536-p100-sized', 16, 100, {}, true);
  await addRoundTrip('c16777216-p3-unsized', 24, 3, { bucket: 'b' }, false);

  const failure: FailureVector[] = [];
  /** One master key (and seeded backend) shared by the streams of a group of failure vectors. */
  const group = (label: string) => ({ keyId: 'failure-key', context: {}, ...setup(`failure/${label}`, 'failure-key') });
  type Group = ReturnType<typeof group>;
  /** A fresh valid stream under the group's key. */
  const stream = async (g: Group, length: number, recorded: boolean, context: EncryptionContext = {}) => {
    const options = { keyring: g.keyring, backend: g.backend, context, chunkSize: C };
    const plaintext = pool.subarray(0, length);
    const bytes = recorded
      ? await encryptBuffer(plaintext, options)
      : await collectBytes(encryptStream(plaintext, options));
    return split(bytes);
  };
  const push = (
    g: Pick<Group, 'masterKey' | 'keyId' | 'context'>,
    name: string,
    expect: string,
    encoding: Pick<FailureVector, 'selfContained' | 'detached' | 'body'>,
    overrides: Partial<Pick<FailureVector, 'masterKey' | 'context' | 'decoder'>> = {},
  ) => {
    failure.push({
      name,
      class: CLASS_OF_CODE[expect] as string,
      keyId: g.keyId,
      masterKey: overrides.masterKey ?? hex(g.masterKey),
      context: overrides.context ?? g.context,
      decoder: overrides.decoder ?? 'stream',
      ...encoding,
      expect,
    });
  };
  const self = (...parts: Uint8Array[]) => ({ selfContained: hex(Buffer.concat(parts)) });
  const detached = (header: EncryptionHeader, body: Uint8Array, patch: Partial<DetachedHeader> = {}) => ({
    detached: { ...toDetachedHeader(header), ...patch },
    body: hex(body),
  });
  const withByte = (bytes: Uint8Array, offset: number, value: (old: number) => number) => {
    const out = bytes.slice();
    out[offset] = value(out[offset] as number);
    return out;
  };
  const stride = C + 40;

  // auth-failed: a ciphertext bit, a tag bit, two chunks swapped, a chunk spliced from another stream.
  {
    const g = group('auth');
    // C + 10 bytes: a full chunk 0 and a 50-byte final chunk 1.
    const s = await stream(g, C + 10, true);
    const other = await stream(g, C + 10, true);
    const chunk = (body: Uint8Array, i: number) => body.subarray(i * stride, Math.min(body.length, (i + 1) * stride));
    push(g, 'auth-failed-chunk0-ciphertext-bit', ErrorCode.AUTH_FAILED, {
      ...self(
        s.prefix,
        withByte(s.body, 24 + 100, (x) => x ^ 0x01),
      ),
    });
    push(g, 'auth-failed-chunk0-nonce-bit-detached', ErrorCode.AUTH_FAILED, {
      ...detached(
        s.header,
        withByte(s.body, 3, (x) => x ^ 0x10),
      ),
    });
    push(g, 'auth-failed-final-tag-bit-detached', ErrorCode.AUTH_FAILED, {
      ...detached(
        s.header,
        withByte(s.body, s.body.length - 1, (x) => x ^ 0x80),
      ),
    });
    push(g, 'auth-failed-chunks-0-1-swapped', ErrorCode.AUTH_FAILED, {
      ...self(s.prefix, chunk(s.body, 1), chunk(s.body, 0)),
    });
    push(g, 'auth-failed-chunk0-duplicated', ErrorCode.AUTH_FAILED, {
      ...self(s.prefix, chunk(s.body, 0), chunk(s.body, 0), chunk(s.body, 1)),
    });
    // Same master key, so the key block unwraps; the spliced chunk is bound to the other stream's header.
    push(g, 'auth-failed-chunk0-from-another-stream', ErrorCode.AUTH_FAILED, {
      ...self(s.prefix, chunk(other.body, 0), chunk(s.body, 1)),
    });
    push(g, 'auth-failed-body-of-another-stream-detached', ErrorCode.AUTH_FAILED, {
      ...detached(s.header, other.body),
    });
  }

  // malformed
  {
    const g = group('malformed');
    const s = await stream(g, 10, true);
    push(g, 'malformed-magic', ErrorCode.MALFORMED, {
      ...self(
        withByte(s.prefix, 0, (x) => x ^ 0x20),
        s.body,
      ),
    });
    push(g, 'malformed-reserved-flag', ErrorCode.MALFORMED, {
      ...self(
        withByte(s.prefix, 7, (x) => x | 0x02),
        s.body,
      ),
    });
    push(g, 'malformed-chunk-exponent-11', ErrorCode.MALFORMED, {
      ...self(
        withByte(s.prefix, 6, () => 11),
        s.body,
      ),
    });
    push(g, 'malformed-chunk-exponent-25', ErrorCode.MALFORMED, {
      ...self(
        withByte(s.prefix, 6, () => 25),
        s.body,
      ),
    });
    const unsized = await stream(g, 10, false);
    push(g, 'malformed-size-without-flag', ErrorCode.MALFORMED, {
      ...self(
        withByte(unsized.prefix, 15, () => 10),
        unsized.body,
      ),
    });
    push(g, 'malformed-key-id-length-0', ErrorCode.MALFORMED, {
      ...self(
        withByte(s.prefix, 96, () => 0),
        s.body,
      ),
    });
    push(g, 'malformed-key-id-not-printable', ErrorCode.MALFORMED, {
      ...self(
        withByte(s.prefix, 97, () => 0x20),
        s.body,
      ),
    });
    push(g, 'malformed-wrapped-key-length-0', ErrorCode.MALFORMED, {
      ...self(
        withByte(
          withByte(s.prefix, 97 + g.keyId.length, () => 0),
          98 + g.keyId.length,
          () => 0,
        ),
        s.body,
      ),
    });
    const h = toDetachedHeader(s.header).h;
    // base64url of 96 bytes has no stray bits, so flip a bit of a character into an invalid/different alphabet symbol.
    push(g, 'malformed-detached-h-padded', ErrorCode.MALFORMED, { ...detached(s.header, s.body, { h: `${h}==` }) });
    push(g, 'malformed-detached-h-standard-base64', ErrorCode.MALFORMED, {
      ...detached(s.header, s.body, { h: `+${h.slice(1)}` }),
    });
    push(g, 'malformed-detached-h-95-bytes', ErrorCode.MALFORMED, {
      ...detached(s.header, s.body, { h: Buffer.from(h, 'base64url').subarray(0, 95).toString('base64url') }),
    });
    const w = toDetachedHeader(s.header).w;
    // 72 bytes = 96 characters; appending one character that carries only stray bits is non-canonical.
    push(g, 'malformed-detached-w-not-canonical', ErrorCode.MALFORMED, {
      ...detached(s.header, s.body, { w: `${w}AB` }),
    });
  }

  // unsupported-version
  {
    const g = group('version');
    const s = await stream(g, 10, true);
    push(g, 'unsupported-version-2', ErrorCode.UNSUPPORTED_VERSION, {
      ...self(
        withByte(s.prefix, 4, () => 2),
        s.body,
      ),
    });
    push(g, 'unsupported-suite-2', ErrorCode.UNSUPPORTED_VERSION, {
      ...self(
        withByte(s.prefix, 5, () => 2),
        s.body,
      ),
    });
  }

  // unknown-key, unwrap-failed
  {
    const g = group('keys');
    const s = await stream(g, 10, true);
    const other = await stream(g, 10, true);
    // "failure-key" -> "failure-kez": same length, printable, not in the keyring.
    push(g, 'unknown-key-id', ErrorCode.UNKNOWN_KEY, {
      ...self(
        withByte(s.prefix, 96 + g.keyId.length, (x) => x + 1),
        s.body,
      ),
    });
    push(g, 'unknown-key-id-detached', ErrorCode.UNKNOWN_KEY, { ...detached(s.header, s.body, { k: 'another-key' }) });
    push(g, 'unwrap-failed-wrapped-key-bit', ErrorCode.KEY_UNWRAP_FAILED, {
      ...self(
        withByte(s.prefix, s.prefix.length - 20, (x) => x ^ 0x04),
        s.body,
      ),
    });
    push(g, 'unwrap-failed-wrapped-key-too-short', ErrorCode.KEY_UNWRAP_FAILED, {
      ...detached(s.header, s.body, { w: toDetachedHeader(s.header).w.slice(0, 92) }),
    });
    push(
      g,
      'unwrap-failed-wrong-master-key',
      ErrorCode.KEY_UNWRAP_FAILED,
      { ...self(s.prefix, s.body) },
      { masterKey: hex(withByte(g.masterKey, 0, (x) => x ^ 0x01)) },
    );
    // A key block moved to another stream's header (same master key): the wrap binds the header.
    push(g, 'unwrap-failed-key-block-moved', ErrorCode.KEY_UNWRAP_FAILED, {
      ...self(s.prefix.subarray(0, 96), other.prefix.subarray(96), s.body),
    });
    push(g, 'unwrap-failed-header-size-changed', ErrorCode.KEY_UNWRAP_FAILED, {
      ...self(
        withByte(s.prefix, 15, (x) => x + 1),
        s.body,
      ),
    });
  }

  // key-commitment-mismatch: a header committing to another data key than the one wrapped.
  {
    const g = group('commitment');
    const forged = await forgeCommitmentStream(g.backend, g.keyring, pool.subarray(0, 100), C);
    push(g, 'key-commitment-mismatch', ErrorCode.KEY_COMMITMENT_MISMATCH, {
      ...self(encodeHeader(forged.header), forged.body),
    });
    push(g, 'key-commitment-mismatch-detached', ErrorCode.KEY_COMMITMENT_MISMATCH, {
      ...detached(forged.header, forged.body),
    });
  }

  // context-mismatch
  {
    const g = { ...group('context'), context: CONTEXT };
    const s = await stream(g, 10, true, CONTEXT);
    push(
      g,
      'context-mismatch-other-value',
      ErrorCode.CONTEXT_MISMATCH,
      { ...self(s.prefix, s.body) },
      {
        context: OTHER_CONTEXT,
      },
    );
    push(
      g,
      'context-mismatch-empty-detached',
      ErrorCode.CONTEXT_MISMATCH,
      { ...detached(s.header, s.body) },
      {
        context: {},
      },
    );
    const plain = await stream(g, 10, true, {});
    push(g, 'context-mismatch-none-at-encryption', ErrorCode.CONTEXT_MISMATCH, { ...self(plain.prefix, plain.body) });
  }

  // truncated: cuts that every decoder following FORMAT.md §9 reports as truncation.
  {
    const g = group('truncated');
    const unsized = await stream(g, C + 10, false);
    push(g, 'truncated-final-chunk-dropped-unsized', ErrorCode.TRUNCATED, {
      ...self(unsized.prefix, unsized.body.subarray(0, stride)),
    });
    push(g, 'truncated-inside-final-chunk-overhead-unsized-detached', ErrorCode.TRUNCATED, {
      ...detached(unsized.header, unsized.body.subarray(0, stride + 39)),
    });
    push(g, 'truncated-empty-body-detached', ErrorCode.TRUNCATED, { ...detached(unsized.header, new Uint8Array(0)) });
    const sized = await stream(g, C, true);
    // C bytes: chunk 0 is full, chunk 1 is the empty final chunk.
    push(g, 'truncated-empty-final-chunk-dropped-sized', ErrorCode.TRUNCATED, {
      ...self(sized.prefix, sized.body.subarray(0, stride)),
    });
    push(g, 'truncated-inside-stream-header', ErrorCode.TRUNCATED, { ...self(sized.prefix.subarray(0, 50)) });
    push(g, 'truncated-inside-key-block', ErrorCode.TRUNCATED, { ...self(sized.prefix.subarray(0, -1)) });
    push(g, 'truncated-empty-input', ErrorCode.TRUNCATED, { selfContained: '' });
  }

  // trailing-data: the header records the size, so the final chunk is known and anything after it is rejected.
  {
    const g = group('trailing');
    const s = await stream(g, C + 10, true);
    push(g, 'trailing-data-one-byte', ErrorCode.TRAILING_DATA, { ...self(s.prefix, s.body, Uint8Array.of(0)) });
    push(g, 'trailing-data-final-chunk-repeated-detached', ErrorCode.TRAILING_DATA, {
      ...detached(s.header, Buffer.concat([s.body, s.body.subarray(stride)])),
    });
  }

  // size-mismatch: an authentic body whose header records another size (a buggy or malicious encrypter).
  {
    const g = group('size');
    for (const [recorded, actual] of [
      [C + 10, 10],
      [10, C + 10],
      [C, C + 1],
    ] as const) {
      const cipher = await createStreamCipher({
        keyring: g.keyring,
        backend: g.backend,
        chunkSize: C,
        plaintextSize: recorded,
      });
      const body = encodeChunks(cipher, pool.subarray(0, actual));
      push(
        g,
        `size-mismatch-header-${recorded}-body-${actual}`,
        ErrorCode.SIZE_MISMATCH,
        recorded === 10 ? { ...detached(cipher.header, body) } : { ...self(encodeHeader(cipher.header), body) },
        { decoder: 'random-access' },
      );
    }
  }

  return {
    format: 'encrypted-stream v1',
    generator: 'packages/codec/scripts/generate-vectors.ts',
    plaintextPool: hex(pool),
    roundTrip,
    failure,
    recipient: await buildRecipientVectors(
      sodium,
      (label) => seededBackend(sodium, backendName, label),
      pool,
      CHUNK_EXPONENT,
    ),
  };
}

/** The file's exact text. */
export function serializeVectors(file: VectorFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

export const VECTORS_PATH = join(__dirname, '..', 'test', 'vectors', 'v1.json');

if (require.main === module) {
  buildVectors('native').then(
    (file) => {
      writeFileSync(VECTORS_PATH, serializeVectors(file));
      console.log(
        `wrote ${file.roundTrip.length} round-trip and ${file.failure.length} failure vectors to ${VECTORS_PATH}`,
      );
    },
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
