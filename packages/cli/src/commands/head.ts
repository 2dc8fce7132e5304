import { ErrorCode, openStreamCipher } from '@encrypted-stream/codec';
import { CHUNK_OVERHEAD } from '@encrypted-stream/codec/low-level';
import { userMetadata } from '@encrypted-stream/s3';
import type { Command } from '../command';
import { usageError } from '../exit-codes';
import { parseS3Url } from '../s3-url';
import { formatBytes } from '../sizes';
import { describeObject } from './object-description';

/** `head`: plaintext size, format version, chunk size, key id and context binding of an object. */
export const head: Command = {
  name: 'head',
  usage: 'head s3://BUCKET/KEY',
  summary: 'show plaintext size, format, chunk size, key id and context of an object',
  options: {},
  async run(context, args) {
    if (args.length !== 1) throw usageError('head needs one s3://bucket/key');
    const { bucket, key } = parseS3Url(args[0] as string);
    const { plain } = await context.clients();
    const info = await describeObject(plain, bucket, key);
    if (!info.encrypted) {
      context.report(
        { bucket, key, encrypted: false, storedBytes: info.storedBytes },
        `s3://${bucket}/${key}: not encrypted (${info.storedBytes} bytes)`,
      );
      return;
    }
    const keyring = await context.keyring();
    let binding = 'unknown';
    for (const [name, ctx] of [
      ['none', {}],
      ['location', { bucket, key }],
    ] as const) {
      try {
        await openStreamCipher(info.header, { keyring, context: ctx });
        binding = name;
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== ErrorCode.CONTEXT_MISMATCH) throw error;
        binding = 'custom';
      }
    }
    const chunks = Math.ceil(info.storedBytes / (info.header.stream.chunkSize + CHUNK_OVERHEAD));
    const result = {
      bucket,
      key,
      encrypted: true,
      plaintextBytes: info.plaintextBytes,
      storedBytes: info.storedBytes,
      formatVersion: 1,
      chunkSize: info.header.stream.chunkSize,
      chunks,
      sizeAuthenticated: info.header.stream.plaintextSize !== undefined,
      keyId: info.header.keyId,
      context: binding,
      contentType: info.head.ContentType,
      metadata: userMetadata(info.head.Metadata),
    };
    context.report(result, [
      `s3://${bucket}/${key}`,
      `  plaintext size   ${info.plaintextBytes} bytes (${formatBytes(info.plaintextBytes)})${result.sizeAuthenticated ? ', authenticated in the header' : ''}`,
      `  stored size      ${info.storedBytes} bytes`,
      `  format           encrypted-stream v1, XChaCha20-Poly1305, ${info.header.stream.chunkSize}-byte chunks (${chunks})`,
      `  key id           ${info.header.keyId}`,
      `  context          ${binding}`,
    ]);
  },
};
