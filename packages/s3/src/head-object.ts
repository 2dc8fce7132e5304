import { ErrorCode, FormatError } from '@encrypted-stream/codec';
import { plaintextSize } from '@encrypted-stream/codec/low-level';
import { EncryptedS3Error, S3ErrorCode, unsupported } from './errors';
import type { CommandHandler } from './handler';
import { readEncryptionHeader, userMetadata } from './metadata';
import { stripChecksums } from './strip-checksums';

/**
 * HeadObject: reports the plaintext ContentLength (from the stored size and
 * the object's chunk size) and the caller's own metadata. The header is
 * authenticated by unwrapping the data key (the wrap binds the header; the
 * opened-stream cache makes repeats free), so a recorded size is the writer's
 * and a stored size that disagrees is ES_SIZE_MISMATCH. An unrecorded size is
 * only what the stored length implies: a read to the end authenticates it.
 */
export const handleHeadObject: CommandHandler = async (args, next, runtime) => {
  const { input } = args;
  if (input.PartNumber !== undefined) throw unsupported('HeadObject with PartNumber');
  if (input.Range !== undefined) throw unsupported('HeadObject with Range');
  const result = await next(args);
  const { output } = result;
  const header = readEncryptionHeader(output.Metadata);
  if (!header) {
    if (runtime.options.passthrough) return result;
    throw new EncryptedS3Error(S3ErrorCode.NOT_ENCRYPTED, `s3://${input.Bucket}/${input.Key} is not encrypted`);
  }
  await runtime.streams.open(header, runtime.options.contextFor({ bucket: input.Bucket, key: input.Key }));
  const size = plaintextSize(Number(output.ContentLength ?? 0), header.stream.chunkSize);
  const recorded = header.stream.plaintextSize;
  output.ContentLength = recorded ?? size;
  if (recorded !== undefined && recorded !== size) {
    throw new FormatError(ErrorCode.SIZE_MISMATCH, `the object holds ${size} bytes, its header records ${recorded}`);
  }
  output.Metadata = userMetadata(output.Metadata);
  stripChecksums(output);
  return result;
};
