import {
  GetObjectCommand,
  type GetObjectCommandInput,
  HeadObjectCommand,
  type HeadObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { openStreamCipher, type StreamCipher } from '@encrypted-stream/codec';
import { verifiedPlaintextSize } from '@encrypted-stream/codec/low-level';
import { EncryptedS3Error, S3ErrorCode } from './errors';
import { withEncryption } from './markers';
import { encryptionMetadata, readEncryptionHeader } from './metadata';
import { type EncryptionOptions, resolveOptions } from './options';
import {
  assertPresignFunction,
  type PresignedRequest,
  type PresignFunction,
  presignCommand,
} from './presigned-request';

/**
 * A presigned GET of an encrypted object, and what a reader holding the key
 * needs to decrypt what it fetches. Plain data (JSON-serialisable): a server
 * can hand it to a browser.
 * @public
 */
export interface PresignedEncryptedGet extends PresignedRequest {
  /** Always `GET`. */
  readonly method: 'GET';
  /** The object's bucket (its context, with `context: 'location'`). */
  readonly bucket: string;
  /** The object's key. */
  readonly key: string;
  /**
   * The object's encryption metadata (`es-h`, `es-k`, `es-w`) as read when
   * presigning: its detached header. Not secret (the data key in it is
   * wrapped) and not trusted: {@link openPresignedGet} authenticates it.
   */
  readonly encryption: Readonly<Record<string, string>>;
  /** The stored (ciphertext) size: the body size the reader decrypts against. */
  readonly ciphertextSize: number;
}

/** The GetObject fields a presigned encrypted GET takes (the reader chooses ranges per request). */
export type PresignGetInput = Omit<
  GetObjectCommandInput,
  'Range' | 'PartNumber' | 'IfMatch' | 'IfNoneMatch' | 'IfModifiedSince' | 'IfUnmodifiedSince'
> & { Bucket: string; Key: string };

/**
 * Options of {@link presignEncryptedGet}.
 * @public
 */
export interface PresignGetOptions {
  /** Seconds until the URL expires (the presigner's default when absent). */
  readonly expiresIn?: number;
}

/** The HeadObject that describes the object a GetObject input names. */
function headInputOf(input: PresignGetInput): HeadObjectCommandInput {
  const { Bucket, Key, VersionId, SSECustomerAlgorithm, SSECustomerKey, SSECustomerKeyMD5 } = input;
  const { ExpectedBucketOwner, RequestPayer } = input;
  const fields = {
    VersionId,
    SSECustomerAlgorithm,
    SSECustomerKey,
    SSECustomerKeyMD5,
    ExpectedBucketOwner,
    RequestPayer,
  };
  return { Bucket, Key, ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) };
}

/**
 * Presigns a GET of an encrypted object for a reader that holds the key (a
 * browser, another service): one HeadObject reads the object's encryption
 * header and size, and the URL is bound to its ETag (`If-Match`, a signed
 * header in `headers`), so it serves that object and no later one (412). The
 * URL returns ciphertext as stored; no `Range` is signed, so the reader asks
 * for whichever ciphertext range it needs with each request (the Range header
 * is not part of the signature). Objects without encryption metadata are
 * `ES_NOT_ENCRYPTED`.
 *
 * ```ts
 * const get = await presignEncryptedGet(client, getSignedUrl, { Bucket, Key });
 * // …where the key is (see openPresignedGet):
 * const { cipher, plaintextSize } = await openPresignedGet(get, { keyring });
 * const read = async (start: number, end: number) => {
 *   const response = await fetch(get.url, { headers: { ...get.headers, range: `bytes=${start}-${end - 1}` } });
 *   if (response.status !== 206) throw new Error(`GET ${response.status}`);
 *   return response.body!;
 * };
 * for await (const piece of decryptRange(cipher, read, get.ciphertextSize, 1000, 2000)) use(piece);
 * ```
 * @public
 */
export async function presignEncryptedGet(
  client: S3Client,
  presign: PresignFunction,
  input: PresignGetInput,
  options: PresignGetOptions = {},
): Promise<PresignedEncryptedGet> {
  assertPresignFunction(presign);
  for (const field of ['Range', 'PartNumber'] as const) {
    if ((input as Record<string, unknown>)[field] !== undefined) {
      throw new TypeError(`presignEncryptedGet: no ${field}; the reader sends the ciphertext range it needs`);
    }
  }
  const head = await client.send(new HeadObjectCommand(withEncryption(headInputOf(input), { raw: true })));
  const header = readEncryptionHeader(head.Metadata);
  if (!header)
    throw new EncryptedS3Error(S3ErrorCode.NOT_ENCRYPTED, `s3://${input.Bucket}/${input.Key} is not encrypted`);
  const command = new GetObjectCommand(
    withEncryption({ ...input, ...(head.ETag ? { IfMatch: head.ETag } : {}) }, { raw: true }),
  );
  const request = await presignCommand(command, (o) => presign(client, command, o), { expiresIn: options.expiresIn });
  return {
    ...request,
    method: 'GET',
    bucket: input.Bucket,
    key: input.Key,
    encryption: encryptionMetadata(header),
    ciphertextSize: Number(head.ContentLength ?? 0),
  };
}

/**
 * What a reader needs to decrypt ranges of a presigned encrypted GET with the
 * codec's `decryptRange(cipher, read, ciphertextSize, start, end)`.
 * @public
 */
export interface OpenedPresignedGet {
  /** The object's stream, opened: its header authenticated with the keyring and context. */
  readonly cipher: StreamCipher;
  /** The plaintext size (checked against a size recorded in the header). */
  readonly plaintextSize: number;
  /** The stored (ciphertext) size. */
  readonly ciphertextSize: number;
}

/**
 * Opens a {@link PresignedEncryptedGet} where the key is: unwraps the data key
 * with `options.keyring` and checks the header against the object's context
 * (`options.context` as the plugin that wrote it used, e.g. `'location'`), so
 * an edited header or one moved from another object fails here
 * (`ES_KEY_UNWRAP_FAILED`, `ES_CONTEXT_MISMATCH`, …) and every chunk read
 * later is authenticated before its plaintext is released.
 * @public
 */
export async function openPresignedGet(
  get: Pick<PresignedEncryptedGet, 'bucket' | 'key' | 'encryption' | 'ciphertextSize'>,
  options: EncryptionOptions,
): Promise<OpenedPresignedGet> {
  const { bucket, key, encryption, ciphertextSize } = get ?? ({} as typeof get);
  if (typeof bucket !== 'string' || typeof key !== 'string' || typeof encryption !== 'object' || !encryption) {
    throw new TypeError('openPresignedGet: get must be what presignEncryptedGet returned');
  }
  if (!Number.isSafeInteger(ciphertextSize) || ciphertextSize < 0) {
    throw new RangeError(`ciphertextSize must be a non-negative safe integer, got ${ciphertextSize}`);
  }
  const resolved = resolveOptions(options);
  const header = readEncryptionHeader(encryption as Record<string, string>);
  if (!header) throw new EncryptedS3Error(S3ErrorCode.NOT_ENCRYPTED, `s3://${bucket}/${key} is not encrypted`);
  const cipher = await openStreamCipher(header, {
    keyring: resolved.keyring,
    context: resolved.contextFor({ bucket, key }),
  });
  return { cipher, plaintextSize: verifiedPlaintextSize(cipher, ciphertextSize), ciphertextSize };
}
