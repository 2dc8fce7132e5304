import { ciphertextSize, collectBytes, createStreamCipher, encryptBody } from '@encrypted-stream/codec/low-level';
import { streamedRequestBody } from '#body-streams';
import { bodySource, isInMemory, knownLength } from './body';
import type { CommandHandler } from './handler';
import { assertNoReservedMetadata, encryptionMetadata } from './metadata';
import { assertNoPlaintextChecksums } from './strip-checksums';

/**
 * PutObject: encrypts the body (bytes and strings to a buffer, streams as a
 * stream), records the plaintext size in the header when it is known, and
 * stores the detached header in user metadata beside the caller's own.
 */
export const handlePutObject: CommandHandler = async (args, next, runtime) => {
  const { input } = args;
  assertNoPlaintextChecksums(input, 'PutObject');
  assertNoReservedMetadata(input.Metadata);
  const plaintextSize = knownLength(input.Body, input.ContentLength);
  if (plaintextSize === undefined) {
    throw new TypeError(
      'PutObject with a stream of unknown length needs ContentLength; use EncryptedUpload for streams of unknown size',
    );
  }
  const { options } = runtime;
  const cipher = await createStreamCipher({
    keyring: options.keyring,
    chunkSize: options.chunkSize,
    plaintextSize,
    context: options.contextFor({ bucket: input.Bucket, key: input.Key }),
  });
  const source = bodySource(input.Body);
  const streamed = isInMemory(input.Body) ? undefined : await streamedRequestBody(cipher, source);
  const sent = next({
    ...args,
    input: {
      ...input,
      Body: streamed ? streamed.body : await collectBytes(encryptBody(cipher, source)),
      ContentLength: ciphertextSize(plaintextSize, cipher.chunkSize),
      Metadata: { ...input.Metadata, ...encryptionMetadata(cipher.header) },
    },
  });
  return streamed?.failed ? Promise.race([sent, streamed.failed]) : sent;
};
