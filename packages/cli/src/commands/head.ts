import { CHUNK_OVERHEAD } from '@encrypted-stream/codec/low-level';
import { userMetadata } from '@encrypted-stream/s3';
import type { Command } from '../command';
import { usageError } from '../exit-codes';
import { formatBytes } from '../human-units';
import { parseS3Url } from '../s3-url';
import { describeObject } from './object-description';
import { type ContextBinding, CUSTOM_CONTEXT_NOTE, UNVERIFIED_NOTE, verifyHeader } from './verify-header';

/** `head`: plaintext size, format version, chunk size, key id and context binding of an object. */
export const head: Command = {
  name: 'head',
  usage: 'head s3://BUCKET/KEY',
  summary: 'show plaintext size, format, chunk size, key id and context of an object (verified with a keyring)',
  help: [
    'With a keyring the header is authenticated (one key unwrap, no download; with KMS one Decrypt) and',
    'its context found; a keyring that cannot unwrap it (a recipient alone) fails (exit 3).',
    'Without one, head shows what the object metadata says, marked UNVERIFIED ("verified": false in',
    '--json): anyone who can write to the bucket can make it say anything.',
  ],
  keyrings: true,
  options: {},
  examples: [
    'encrypted-stream head s3://bucket/backups/backup.tar',
    'encrypted-stream head s3://bucket/backups/backup.tar --json',
    'encrypted-stream head s3://bucket/backups/backup.tar --identity ~/restore.key',
  ],
  async run(context, args) {
    if (args.length !== 1) throw usageError('head needs one s3://bucket/key');
    const { bucket, key } = parseS3Url(args[0] as string);
    const keyring = context.hasKeyring ? await context.reader() : undefined;
    const info = await describeObject(await context.plainClient(), bucket, key);
    if (!info.encrypted) {
      context.report(
        { bucket, key, encrypted: false, storedBytes: info.storedBytes },
        `s3://${bucket}/${key}: not encrypted (${info.storedBytes} bytes)`,
      );
      return;
    }
    const binding: ContextBinding | 'unknown' = keyring
      ? await verifyHeader(info.header, keyring, bucket, key)
      : 'unknown';
    // A custom context is one the CLI cannot check: the key unwrapped, the header did not authenticate.
    const verified = binding === 'none' || binding === 'location';
    const sizeRecorded = info.header.stream.plaintextSize !== undefined;
    const chunks = Math.ceil(info.storedBytes / (info.header.stream.chunkSize + CHUNK_OVERHEAD));
    const result = {
      bucket,
      key,
      encrypted: true,
      verified,
      plaintextBytes: info.plaintextBytes,
      storedBytes: info.storedBytes,
      formatVersion: 1,
      chunkSize: info.header.stream.chunkSize,
      chunks,
      sizeRecorded,
      sizeAuthenticated: sizeRecorded && verified,
      keyId: info.header.keyId,
      context: binding,
      contentType: info.head.ContentType,
      metadata: userMetadata(info.head.Metadata),
    };
    const sizeNote = sizeRecorded ? (verified ? ', authenticated in the header' : ', recorded in the header') : '';
    context.report(result, [
      `s3://${bucket}/${key}`,
      ...(verified ? [] : [`  ${keyring ? CUSTOM_CONTEXT_NOTE : UNVERIFIED_NOTE}`]),
      `  plaintext size   ${info.plaintextBytes} bytes (${formatBytes(info.plaintextBytes)})${sizeNote}`,
      `  stored size      ${info.storedBytes} bytes`,
      `  format           encrypted-stream v1, XChaCha20-Poly1305, ${info.header.stream.chunkSize}-byte chunks (${chunks})`,
      `  key id           ${info.header.keyId}`,
      `  context          ${keyring ? binding : 'unknown (needs the keyring)'}`,
    ]);
  },
};
