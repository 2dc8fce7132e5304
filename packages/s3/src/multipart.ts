import { EncryptedS3Error, S3ErrorCode, unsupported } from './errors';
import type { CommandHandler } from './handler';
import { listAllParts } from './list-parts';
import { commandOptions } from './markers';
import { assertNoReservedMetadata, encryptionMetadata } from './metadata';
import { withStreamEnd } from './stream-end';
import { assertNoPlaintextChecksums } from './strip-checksums';
import {
  assertPartNumber,
  checkPartSize,
  encryptPlacedPart,
  newUploadCipher,
  type PlacedPart,
  partLength,
  placePart,
  verifyParts,
} from './upload-state';

/**
 * CreateMultipartUpload: a new stream whose header goes into the object's
 * metadata. With a part size (`withEncryption(input, { partSize })`) or a
 * recorded size, the caller marks the final part (`lastPart`). Without,
 * lib-storage's conventions hold: the plugin's `partSize` option, or else
 * part 1's length, is the part size, and Complete ends the stream.
 */
export const handleCreateMultipartUpload: CommandHandler = async (args, next, runtime) => {
  const { input } = args;
  assertNoReservedMetadata(input.Metadata);
  // lib-storage passes its PutObject params on: plaintext checksums fail here, before anything is sent.
  assertNoPlaintextChecksums(input, 'CreateMultipartUpload');
  const marked = commandOptions(input);
  const cipher = await newUploadCipher(runtime.options, input.Bucket, input.Key, marked.plaintextSize);
  const strict = marked.partSize !== undefined || marked.plaintextSize !== undefined;
  const partSize = strict ? (marked.partSize ?? runtime.options.partSize) : runtime.partSizeOption;
  if (partSize !== undefined) checkPartSize(partSize, cipher);
  const result = await next({
    ...args,
    input: { ...input, Metadata: { ...input.Metadata, ...encryptionMetadata(cipher.header) } },
  });
  const uploadId = result.output.UploadId;
  if (typeof uploadId !== 'string') throw new EncryptedS3Error(S3ErrorCode.INVALID_UPLOAD, 'no UploadId returned');
  const upload = {
    bucket: input.Bucket,
    key: input.Key,
    uploadId,
    cipher,
    ...(typeof input.ChecksumAlgorithm === 'string' ? { checksumAlgorithm: input.ChecksumAlgorithm } : {}),
  };
  if (partSize === undefined) runtime.uploads.addPending({ ...upload, fallbackPartSize: runtime.options.partSize });
  else runtime.uploads.add({ ...upload, partSize, ...(strict ? {} : { completeEnds: true }) });
  return result;
};

/** UploadPart: encrypts the part at its place in the stream. */
export const handleUploadPart: CommandHandler = async (args, next, runtime) => {
  const { input } = args;
  assertNoPlaintextChecksums(input, 'UploadPart');
  assertPartNumber(input.PartNumber);
  const { isLastPart } = commandOptions(input);
  const partNumber: number = input.PartNumber;
  const length = partLength(input.Body, input.ContentLength);
  const state = await runtime.uploads.forPart(input.UploadId, input.Bucket, input.Key, {
    partNumber,
    length,
    ...(isLastPart === undefined ? {} : { isLastPart }),
  });
  let placed: PlacedPart;
  try {
    placed = placePart(state, partNumber, input.Body, input.ContentLength, isLastPart);
  } catch (error) {
    if (partNumber === 1) runtime.uploads.partOneRefused(input.UploadId, error); // parts waiting for it fail too
    throw error;
  }
  if (partNumber === 1) runtime.uploads.partOneAccepted(input.UploadId); // parts waiting for it go ahead
  const { failed, release, ...fields } = await encryptPlacedPart(state, placed, input.Body);
  const sent = next({ ...args, input: { ...input, ...fields } });
  const out = await (failed ? Promise.race([sent, failed]) : sent);
  release?.(); // sent: S3 read the whole body
  return out;
};

/**
 * CompleteMultipartUpload: refuses parts that would not form a readable
 * object; under lib-storage's conventions, first adds the stream's final
 * chunk when the parts lack it (see `stream-end.ts`).
 */
export const handleCompleteMultipartUpload: CommandHandler = async (args, next, runtime) => {
  const { input } = args;
  const state = runtime.uploads.get(input.UploadId, input.Bucket, input.Key);
  const requested = input.MultipartUpload?.Parts ?? [];
  const { parts, listed } = await withStreamEnd(
    runtime,
    state,
    requested,
    await listAllParts(runtime.client, input.Bucket, input.Key, input.UploadId),
  );
  verifyParts(state, parts, listed);
  const added = parts.length !== requested.length;
  const result = await next(
    added ? { ...args, input: { ...input, MultipartUpload: { ...input.MultipartUpload, Parts: parts } } } : args,
  );
  runtime.uploads.delete(input.UploadId);
  return result;
};

/** AbortMultipartUpload: forgets the upload's state. */
export const handleAbortMultipartUpload: CommandHandler = async (args, next, runtime) => {
  const result = await next(args);
  runtime.uploads.delete(args.input.UploadId);
  return result;
};

/** Commands that would copy or compute over ciphertext as if it were plaintext. */
export const rejectUploadPartCopy: CommandHandler = async () => {
  throw unsupported('UploadPartCopy (parts are encrypted at their place in the stream)');
};
export const rejectSelectObjectContent: CommandHandler = async () => {
  throw unsupported('SelectObjectContent');
};
