import { rotateObjectKey } from '@encrypted-stream/s3';
import type { Command } from '../command';
import { type DescribedError, describeError, reportedFailure } from '../errors-to-exit';
import { CliError, ExitCode, usageError } from '../exit-codes';
import { mapLimit } from '../map-limit';
import { Progress } from '../progress';
import { parseS3Url } from '../s3-url';
import { listAllObjects } from './object-listing';

/** `rotate`: re-wrap every encrypted object under a prefix to the keyring's primary key (server-side copies). */
export const rotate: Command = {
  name: 'rotate',
  usage: 'rotate s3://BUCKET[/PREFIX]',
  summary: "re-wrap objects' data keys under the primary key (metadata-only server-side copies)",
  help: [
    'Each encrypted object under the prefix whose data key is wrapped under another key than the',
    "keyring's primary one gets a server-side copy onto itself that replaces only its metadata (no",
    'data transfer), guarded by its ETag. Plaintext objects are counted and left alone.',
  ],
  options: {},
  examples: ['encrypted-stream rotate s3://bucket/backups/', 'encrypted-stream rotate s3://bucket --json'],
  async run(context, args) {
    if (args.length !== 1) throw usageError('rotate needs one s3://bucket/prefix');
    const { bucket, key: prefix } = parseS3Url(args[0] as string, true);
    const keyring = await context.keyring();
    const { plain } = await context.clients();
    const objects = await listAllObjects(plain, bucket, prefix);
    const progress = new Progress(`rotate s3://${bucket}/${prefix}`, objects.length, context.showProgress, {
      unit: 'objects',
    });
    const summary = { rotated: 0, alreadyCurrent: 0, notEncrypted: 0, failed: 0 };
    const failures: { key: string; error: string }[] = [];
    let reported: DescribedError | undefined;
    await mapLimit(objects, 4, async (o) => {
      try {
        const result = await rotateObjectKey(plain, { Bucket: bucket, Key: o.key }, { from: keyring });
        if (result.rotated) summary.rotated++;
        else summary.alreadyCurrent++;
      } catch (error) {
        if ((error as { code?: string }).code === 'ES_NOT_ENCRYPTED') summary.notEncrypted++;
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
    context.report({ bucket, prefix, primaryKeyId: keyring.primaryKeyId, ...summary, failures }, [
      `rotated ${summary.rotated}, already under "${keyring.primaryKeyId}" ${summary.alreadyCurrent}, not encrypted ${summary.notEncrypted}, failed ${summary.failed}`,
      ...failures.map((f) => `  FAIL ${f.key}: ${f.error}`),
    ]);
    if (summary.failed > 0) {
      throw new CliError(reported?.exitCode ?? ExitCode.FAILURE, `${summary.failed} object(s) could not be rotated`);
    }
  },
};
