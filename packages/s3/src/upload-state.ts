import type { Readable } from 'node:stream';
import {
  CHUNK_OVERHEAD,
  chunkOffset,
  ciphertextSize,
  collectBytes,
  createStreamCipher,
  type EncryptionHeader,
  encryptBody,
  encryptingStream,
  fromDetachedHeader,
  openStreamCipher,
  type StreamCipher,
  toDetachedHeader,
} from '@encrypted-stream/codec';
import { bodySource, isInMemory, knownLength, toRequestBody } from './body';
import { EncryptedS3Error, S3ErrorCode } from './errors';
import { assertPartSize, type ResolvedOptions } from './options';

/**
 * The encryption state of one multipart upload: parts are encrypted
 * independently (part n starts at chunk (n-1)·partSize/chunkSize), so they
 * can be sent in parallel, out of order, from several processes.
 */
export interface UploadState {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  /** Plaintext bytes of every part but the last. */
  readonly partSize: number;
  readonly cipher: StreamCipher;
}

/** A new stream for a multipart upload (its size is unknown up front). */
export async function newUploadCipher(options: ResolvedOptions, bucket: string, key: string): Promise<StreamCipher> {
  return createStreamCipher({
    keyring: options.keyring,
    chunkSize: options.chunkSize,
    context: options.contextFor({ bucket, key }),
  });
}

/** Checks a part size against the upload's chunk size. */
export function checkPartSize(partSize: number, cipher: StreamCipher): number {
  assertPartSize(partSize, cipher.chunkSize);
  return partSize;
}

/**
 * Encrypts one part (for a streamed body, `failed` rejects if encrypting it
 * fails: race it against the send, see `toRequestBody`). A part is final when marked so, or when it is shorter
 * than the part size (only the last part can be). Every other part must hold
 * exactly `partSize` bytes.
 */
export async function encryptPart(
  state: UploadState,
  partNumber: number,
  body: unknown,
  contentLength: number | undefined,
  isLastPart: boolean | undefined,
): Promise<{ Body: Uint8Array | Readable; ContentLength: number; failed?: Promise<never> }> {
  if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
    throw new RangeError(`PartNumber must be 1 … 10000, got ${partNumber}`);
  }
  const length = knownLength(body, contentLength);
  if (length === undefined) {
    throw new TypeError('an encrypted part needs a body of known length (bytes, Blob, file stream or ContentLength)');
  }
  const final = isLastPart ?? length < state.partSize;
  if (!final && length !== state.partSize) {
    throw new RangeError(
      `part ${partNumber} holds ${length} bytes: every part but the last must hold exactly ${state.partSize}`,
    );
  }
  const { cipher } = state;
  const firstChunk = (partNumber - 1) * (state.partSize / cipher.chunkSize);
  const run = { firstChunk, final, length };
  const streamed = isInMemory(body) ? undefined : toRequestBody(encryptingStream(cipher, bodySource(body), run));
  return {
    ...(streamed
      ? { Body: streamed.body, failed: streamed.failed }
      : { Body: await collectBytes(encryptBody(cipher, bodySource(body), run)) }),
    ContentLength: final
      ? ciphertextSize(length, cipher.chunkSize)
      : chunkOffset(length / cipher.chunkSize, cipher.chunkSize),
  };
}

/** A part as S3 lists it. */
export interface ListedPart {
  readonly PartNumber?: number;
  readonly Size?: number;
}

/**
 * Refuses to complete an upload whose parts do not form one readable stream:
 * parts must be numbered 1…N without gaps, all but the last exactly one
 * encrypted part long, and the last must end with a final chunk (it was marked).
 */
export function verifyParts(state: UploadState, requested: readonly { PartNumber?: number }[], listed: ListedPart[]) {
  const invalid = (why: string) => new EncryptedS3Error(S3ErrorCode.INVALID_UPLOAD, `upload ${state.uploadId}: ${why}`);
  const numbers = requested.map((p) => p.PartNumber ?? 0).sort((a, b) => a - b);
  if (numbers.length === 0) throw invalid('no parts');
  numbers.forEach((n, i) => {
    if (n !== i + 1) throw invalid(`parts must be numbered 1…${numbers.length} without gaps or repeats`);
  });
  const sizes = new Map(listed.map((p) => [p.PartNumber, p.Size]));
  const stride = state.cipher.chunkSize + CHUNK_OVERHEAD;
  const fullPart = chunkOffset(state.partSize / state.cipher.chunkSize, state.cipher.chunkSize);
  for (const n of numbers) {
    const size = sizes.get(n);
    if (size === undefined) throw invalid(`part ${n} was not uploaded`);
    if (n < numbers.length && size !== fullPart) throw invalid(`part ${n} is ${size} bytes, not a full part`);
    if (n === numbers.length && size % stride < CHUNK_OVERHEAD) {
      throw invalid(`part ${n} does not end the stream: the final part was never marked (isLastPart)`);
    }
  }
}

/** What a resume token holds: never an unwrapped key, only the wrapped header. */
interface ResumeTokenBody {
  readonly v: 1;
  readonly b: string;
  readonly k: string;
  readonly u: string;
  readonly p: number;
  readonly h: ReturnType<typeof toDetachedHeader>;
}

/**
 * A serialisable token from which another process can resume the upload
 * (it needs the same keyring). Holds the wrapped data key only.
 */
export function toResumeToken(state: UploadState): string {
  const body: ResumeTokenBody = {
    v: 1,
    b: state.bucket,
    k: state.key,
    u: state.uploadId,
    p: state.partSize,
    h: toDetachedHeader(state.cipher.header),
  };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/** Parses a resume token and unwraps its data key. */
export async function fromResumeToken(token: string, options: ResolvedOptions): Promise<UploadState> {
  const invalid = () => new EncryptedS3Error(S3ErrorCode.INVALID_RESUME_TOKEN, 'not a valid resume token');
  if (typeof token !== 'string') throw new TypeError('resume token must be a string');
  let body: ResumeTokenBody;
  let header: EncryptionHeader;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (body.v !== 1 || typeof body.b !== 'string' || typeof body.k !== 'string' || typeof body.u !== 'string') {
      throw invalid();
    }
    header = fromDetachedHeader(body.h);
    assertPartSize(body.p, header.stream.chunkSize);
  } catch {
    throw invalid();
  }
  const cipher = await openStreamCipher(header, {
    keyring: options.keyring,
    context: options.contextFor({ bucket: body.b, key: body.k }),
  });
  return { bucket: body.b, key: body.k, uploadId: body.u, partSize: body.p, cipher };
}
