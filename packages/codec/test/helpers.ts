import { Writable } from 'node:stream';
import { type BackendName, seededBackend } from '../scripts/generate-vectors';
import type { CryptoBackend } from '../src/crypto/backend/backend';
import { createLibsodiumBackend } from '../src/crypto/backend/libsodium-backend';
import { loadSodium } from '../src/crypto/backend/sodium';
import { LocalKeyring } from '../src/crypto/local-keyring';
import { CHUNK_OVERHEAD } from '../src/format/constants';
import { EncryptedStreamError } from '../src/format/errors';
import { createNativeBackend } from '../src/node/native-backend';

export { type BackendName, seededBackend, seededRandom } from '../scripts/generate-vectors';

/** The small chunk size most tests use (the format's minimum). */
export const C = 4096;
/** Bytes of a full encrypted chunk at {@link C}. */
export const STRIDE = C + CHUNK_OVERHEAD;
export const BACKENDS: readonly BackendName[] = ['native', 'libsodium'];

/** A backend with a CSPRNG (the default random source). */
export async function backend(name: BackendName = 'native'): Promise<CryptoBackend> {
  const sodium = await loadSodium();
  return name === 'native' ? createNativeBackend(sodium) : createLibsodiumBackend(sodium);
}

/** A backend whose every random byte is reproducible from `label`. */
export async function seeded(label: string, name: BackendName = 'native'): Promise<CryptoBackend> {
  return seededBackend(await loadSodium(), name, label);
}

/** Reproducible non-cryptographic filler bytes (xorshift32). */
export function filler(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
export const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** A copy of `bytes` with bit `bit` (0 = least significant) of byte `offset` flipped. */
export function flipBit(bytes: Uint8Array, offset: number, bit: number): Uint8Array {
  const out = bytes.slice();
  out[offset] = (out[offset] as number) ^ (1 << bit);
  return out;
}

/** Cuts `bytes` at the given offsets (any order, duplicates allowed) into views. */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    pieces.push(bytes.subarray(at, p));
    at = p;
  }
  pieces.push(bytes.subarray(at));
  return pieces;
}

export async function* fromPieces(pieces: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of pieces) yield p;
}

/** The code of an EncryptedStreamError; fails the test for anything else. */
export function codeOf(error: unknown): string {
  if (!(error instanceof EncryptedStreamError)) {
    throw new Error(`expected an EncryptedStreamError, got ${String(error)}`, { cause: error });
  }
  return error.code;
}

/** Awaits `work`; returns the code of the EncryptedStreamError it rejects with (fails the test if it resolves). */
export async function failureCode(work: Promise<unknown> | (() => Promise<unknown>)): Promise<string> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (error) {
    return codeOf(error);
  }
  throw new Error('expected a failure, but the operation succeeded');
}

/** Consumes an async iterable: what it released before failing, and how it failed. */
export async function drain(pieces: AsyncIterable<Uint8Array>): Promise<{ output: Uint8Array; error: unknown }> {
  const out: Uint8Array[] = [];
  try {
    for await (const p of pieces) out.push(p.slice());
  } catch (error) {
    return { output: concat(...out), error };
  }
  return { output: concat(...out), error: undefined };
}

/** Collects everything, rethrowing any failure. */
export async function collect(pieces: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const { output, error } = await drain(pieces);
  if (error !== undefined) throw error;
  return output;
}

/** A Writable that records what it receives and how it ended. */
export class RecordingSink extends Writable {
  readonly received: Uint8Array[] = [];
  readonly errors: unknown[] = [];
  ended = false;

  constructor() {
    super();
    this.on('error', (error) => this.errors.push(error));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.received.push(new Uint8Array(chunk));
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.ended = true;
    callback();
  }

  get bytes(): Uint8Array {
    return concat(...this.received);
  }
}

/** Writes `pieces` into `writable` and ends it; resolves on finish, rejects with its error. */
export function writeAll(writable: Writable, pieces: Iterable<Uint8Array>): Promise<void> {
  return new Promise((resolve, reject) => {
    writable.once('error', reject);
    writable.once('finish', () => resolve());
    (async () => {
      for (const p of pieces) {
        if (writable.destroyed) return;
        if (!writable.write(p)) {
          await new Promise<void>((r) => {
            const done = () => {
              writable.off('drain', done);
              writable.off('close', done);
              r();
            };
            writable.on('drain', done);
            writable.on('close', done);
          });
        }
      }
      if (!writable.destroyed) writable.end();
    })().catch(reject);
  });
}

/** A one-key local keyring on a given backend. */
export function keyring(keyId: string, masterKey: Uint8Array, on: CryptoBackend): LocalKeyring {
  return new LocalKeyring({ [keyId]: masterKey }, keyId, on);
}
