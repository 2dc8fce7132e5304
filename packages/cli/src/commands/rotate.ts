import type { Keyring } from '@encrypted-stream/codec';
import type { WrappedKey } from '@encrypted-stream/codec/low-level';
import { rotateObjectKey } from '@encrypted-stream/s3';
import type { Command } from '../command';
import { stringOption } from '../command';
import { type DescribedError, describeError, reportedFailure } from '../errors-to-exit';
import { CliError, ExitCode, usageError } from '../exit-codes';
import type { KeyringSet } from '../keyrings';
import { mapLimit } from '../map-limit';
import { Progress } from '../progress';
import { parseS3Url } from '../s3-url';
import { listAllObjects } from './object-listing';

/** Thrown by {@link SkipCurrent} for an object already wrapped under the target key: nothing to do. */
class AlreadyCurrent extends Error {}

/**
 * The reading keyrings, refusing (with {@link AlreadyCurrent}) to unwrap a key
 * block that is already under the target key id: a current object then costs
 * no key unwrap and no wrap (for KMS, no Decrypt and no Encrypt).
 */
class SkipCurrent implements Keyring {
  constructor(
    readonly reader: KeyringSet,
    readonly targetKeyId: string,
  ) {}
  wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    return this.reader.wrap(dataKey, aad);
  }
  unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    if (wrapped?.keyId === this.targetKeyId) throw new AlreadyCurrent();
    return this.reader.unwrap(wrapped, aad);
  }
}

/** `rotate`: re-wrap every encrypted object under a prefix to one keyring's key (server-side copies). */
export const rotate: Command = {
  name: 'rotate',
  usage: 'rotate s3://BUCKET[/PREFIX] [--to keyring|recipient|kms]',
  summary: "re-wrap objects' data keys under one key, of any keyring type (metadata-only server-side copies)",
  keyrings: true,
  help: [
    'Each encrypted object under the prefix whose data key is wrapped under another key than the target',
    'gets a server-side copy onto itself that replaces only its metadata (no data transfer), guarded by',
    'its ETag. Plaintext objects are counted and left alone; objects already under the target cost no',
    'unwrap (no KMS request).',
    '',
    'Every keyring option given reads (the old key blocks); the target wraps the new ones: --to, else the',
    '--recipient or the first --kms-key-id when given (a --keyring given with them only reads), else the',
    "keyring file's primary key, else the identity file's last identity (keygen --identity --add). So:",
    '  local → KMS:        --keyring FILE --kms-key-id ARN',
    '  KMS key A → B:      --kms-key-id B --kms-key-id A (or --kms-discovery-account of A)',
    '  recipient → new:    --identity OLD.key --recipient es-pub1…(new)',
    '  local → recipient:  --keyring FILE --recipient es-pub1…',
    '  KMS → local:        --keyring FILE --kms-key-id ARN --to keyring',
  ],
  options: {
    to: {
      type: 'string',
      value: 'TYPE',
      description: 'which keyring wraps: keyring, recipient or kms (needed when a recipient and a KMS key are given)',
    },
  },
  examples: [
    'encrypted-stream rotate s3://bucket/backups/',
    'encrypted-stream rotate s3://bucket/backups/ --keyring ~/.es-keyring --kms-key-id arn:aws:kms:eu-west-1:111122223333:key/…',
    'encrypted-stream rotate s3://bucket --identity old.key --recipient es-pub1… --json',
  ],
  async run(context, args, values) {
    if (args.length !== 1) throw usageError('rotate needs one s3://bucket/prefix');
    const { bucket, key: prefix } = parseS3Url(args[0] as string, true);
    const keyrings = await context.keyrings();
    const target = await keyrings.rotationTarget(stringOption(values, 'to'));
    const from = new SkipCurrent(keyrings.reader(), target.keyId);
    const plain = await context.plainClient();
    const objects = await listAllObjects(plain, bucket, prefix);
    const progress = new Progress(`rotate s3://${bucket}/${prefix}`, objects.length, context.showProgress, {
      unit: 'objects',
    });
    const summary = { rotated: 0, alreadyCurrent: 0, notEncrypted: 0, failed: 0 };
    const failures: { key: string; error: string }[] = [];
    let reported: DescribedError | undefined;
    await mapLimit(objects, 4, async (o) => {
      try {
        const result = await rotateObjectKey(plain, { Bucket: bucket, Key: o.key }, { from, to: target.keyring });
        if (result.rotated) summary.rotated++;
        else summary.alreadyCurrent++;
      } catch (error) {
        if (error instanceof AlreadyCurrent) summary.alreadyCurrent++;
        else if ((error as { code?: string }).code === 'ES_NOT_ENCRYPTED') summary.notEncrypted++;
        else {
          summary.failed++;
          const described = describeError(error);
          reported = reportedFailure(reported, described);
          failures.push({ key: o.key, error: described.message });
        }
      }
      progress.add(1);
    });
    progress.finish();
    context.report({ bucket, prefix, primaryKeyId: target.keyId, keyringType: target.type, ...summary, failures }, [
      `rotated ${summary.rotated}, already under "${target.keyId}" ${summary.alreadyCurrent}, not encrypted ${summary.notEncrypted}, failed ${summary.failed}`,
      ...failures.map((f) => `  FAIL ${f.key}: ${f.error}`),
    ]);
    if (summary.failed > 0) {
      throw new CliError(reported?.exitCode ?? ExitCode.FAILURE, `${summary.failed} object(s) could not be rotated`);
    }
  },
};
