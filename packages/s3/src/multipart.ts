import { EncryptedS3Error, S3ErrorCode, unsupported } from './errors';
import type { CommandHandler } from './handler';
import { listAllParts } from './list-parts';
import { commandOptions } from './markers';
import { assertNoReservedMetadata, encryptionMetadata } from './metadata';
import { assertNoPlaintextChecksums } from './strip-checksums';
import { checkPartSize, encryptPart, newUploadCipher, verifyParts } from './upload-state';

/** CreateMultipartUpload: a new stream whose header goes into the object's metadata. */
export const handleCreateMultipartUpload: CommandHandler = async (args, next, runtime) => {
  const { input } = args;
  assertNoReservedMetadata(input.Metadata);
  const marked = commandOptions(input);
  const cipher = await newUploadCipher(runtime.options, input.Bucket, input.Key, marked.plaintextSize);
  const partSize = checkPartSize(marked.partSize ?? runtime.options.partSize, cipher);
  const result = await next({
    ...args,
    input: { ...input, Metadata: { ...input.Metadata, ...encryptionMetadata(cipher.header) } },
  });
  const uploadId = result.output.UploadId;
  if (typeof uploadId !== 'string') throw new EncryptedS3Error(S3ErrorCode.INVALID_UPLOAD, 'no UploadId returned');
  runtime.uploads.add({ bucket: input.Bucket, key: input.Key, uploadId, partSize, cipher });
  return result;
};

/** UploadPart: encrypts the part at its place in the stream. */
export const handleUploadPart: CommandHandler = async (args, next, runtime) => {
  const { input } = args;
  assertNoPlaintextChecksums(input, 'UploadPart');
  const state = runtime.uploads.get(input.UploadId, input.Bucket, input.Key);
  const part = await encryptPart(
    state,
    input.PartNumber,
    input.Body,
    input.ContentLength,
    commandOptions(input).isLastPart,
  );
  const { failed, ...fields } = part;
  const sent = next({ ...args, input: { ...input, ...fields } });
  return failed ? Promise.race([sent, failed]) : sent;
};

/** CompleteMultipartUpload: refuses parts that would not form a readable object. */
export const handleCompleteMultipartUpload: CommandHandler = async (args, next, runtime) => {
  const { input } = args;
  const state = runtime.uploads.get(input.UploadId, input.Bucket, input.Key);
  const listed = await listAllParts(runtime.client, input.Bucket, input.Key, input.UploadId);
  verifyParts(state, input.MultipartUpload?.Parts ?? [], listed);
  const result = await next(args);
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
