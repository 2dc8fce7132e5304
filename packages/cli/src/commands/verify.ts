import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Command } from '../command';
import { type DescribedError, describeError, reportedFailure } from '../errors-to-exit';
import { CliError, usageError } from '../exit-codes';
import { Progress } from '../progress';
import { parseS3Url } from '../s3-url';

/** `verify`: read and authenticate every byte without writing plaintext anywhere. */
export const verify: Command = {
  name: 'verify',
  usage: 'verify s3://BUCKET/KEY [s3://BUCKET/KEY …]',
  summary: 'download and authenticate objects without writing plaintext',
  help: [
    'Reads and authenticates every byte of each object, writing nothing; lists OK or FAIL per object and',
    'exits with the failure code (4 for tampering wins over any other) if any failed.',
  ],
  keyrings: true,
  options: {},
  examples: [
    'encrypted-stream verify s3://bucket/backups/backup.tar s3://bucket/backups/older.tar',
    'encrypted-stream verify s3://bucket/backups/backup.tar --identity ~/restore.key --kms-key-id arn:aws:kms:…',
  ],
  async run(context, args) {
    if (args.length === 0) throw usageError('verify needs at least one s3://bucket/key');
    const targets = args.map((arg) => parseS3Url(arg)); // every usage error before any request
    const { encrypted } = await context.clients();
    const results = [];
    let failed: DescribedError | undefined;
    for (const { bucket, key } of targets) {
      try {
        const out = await encrypted.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const progress = new Progress(`verify s3://${bucket}/${key}`, out.ContentLength, context.showProgress);
        for await (const piece of out.Body as AsyncIterable<Uint8Array>) progress.add(piece.length);
        progress.finish();
        results.push({ bucket, key, ok: true, bytes: progress.done });
      } catch (error) {
        const described = describeError(error);
        failed = reportedFailure(failed, described);
        results.push({ bucket, key, ok: false, error: described.message });
      }
    }
    context.report(
      { results },
      results.map(
        (r) =>
          `${r.ok ? 'OK  ' : 'FAIL'}  s3://${r.bucket}/${r.key}  ${r.ok ? `${r.bytes} bytes authenticated` : r.error}`,
      ),
    );
    if (failed) throw new CliError(failed.exitCode, `verification failed: ${failed.message}`);
  },
};
