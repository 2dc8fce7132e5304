import { basename } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { writeOutput } from '../atomic-output';
import type { Command } from '../command';
import { stringOption } from '../command';
import { usageError } from '../exit-codes';
import { formatBytes } from '../human-units';
import { counted, Progress } from '../progress';
import { parseS3Url } from '../s3-url';
import { parseRangeArgument } from '../sizes';

/** `get`: download and decrypt to a file (appearing only once every byte authenticated) or stdout. */
export const get: Command = {
  name: 'get',
  usage: 'get s3://BUCKET/KEY [FILE|-] [--range a-b|a-|-n]',
  summary: 'download and decrypt; the file appears only once every byte authenticated',
  help: [
    "FILE defaults to the key's last path segment; - writes to stdout. A FILE appears (by rename) only",
    'once every byte authenticated; a failure leaves nothing behind. --range is one ranged request for',
    'only the chunks it needs; a range reaching the end of the object also authenticates its final chunk.',
  ],
  keyrings: true,
  options: {
    range: {
      type: 'string',
      value: 'RANGE',
      description: 'plaintext bytes a-b (inclusive), a- (from a) or -n (the last n); --range -n works too',
    },
  },
  examples: [
    'encrypted-stream get s3://bucket/backups/backup.tar restored.tar',
    'encrypted-stream get s3://bucket/backups/backup.tar - --range -1048576 | tail -c 100',
    'encrypted-stream get s3://bucket/backups/backup.tar restored.tar --identity ~/restore.key',
    'encrypted-stream get s3://bucket/backups/backup.tar restored.tar --kms-discovery-account 111122223333',
  ],
  async run(context, args, values) {
    if (args.length < 1 || args.length > 2)
      throw usageError('get needs an s3://bucket/key and an optional destination');
    const { bucket, key } = parseS3Url(args[0] as string);
    const output = args[1] ?? basename(key);
    const rangeText = stringOption(values, 'range');
    const range = rangeText === undefined ? undefined : parseRangeArgument(rangeText); // before the keyring is read
    const { encrypted } = await context.clients();
    const t0 = performance.now();
    const out = await encrypted.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(range ? { Range: range } : {}),
      }),
    );
    const progress = new Progress(
      `get s3://${bucket}/${key}`,
      out.ContentLength,
      context.showProgress && output !== '-',
    );
    await writeOutput(output, counted(out.Body as AsyncIterable<Uint8Array>, progress), context.stdout);
    progress.finish();
    const seconds = (performance.now() - t0) / 1000;
    context.report(
      { bucket, key, output, bytes: progress.done, contentRange: out.ContentRange, seconds },
      `downloaded ${formatBytes(progress.done)} from s3://${bucket}/${key} to ${output} in ${seconds.toFixed(1)} s`,
      output === '-',
    );
  },
};
