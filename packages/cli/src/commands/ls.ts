import type { Command } from '../command';
import { usageError } from '../exit-codes';
import { mapLimit } from '../map-limit';
import { parseS3Url } from '../s3-url';
import { describeObject } from './object-description';
import { listAllObjects } from './object-listing';

/** `ls`: objects under a prefix with plaintext sizes and whether each is encrypted. */
export const ls: Command = {
  name: 'ls',
  usage: 'ls s3://BUCKET[/PREFIX]',
  summary: 'list objects with plaintext sizes and whether each is encrypted',
  options: {},
  async run(context, args) {
    if (args.length !== 1) throw usageError('ls needs one s3://bucket/prefix');
    const { bucket, key: prefix } = parseS3Url(args[0] as string, true);
    const { plain } = await context.clients();
    const objects = await listAllObjects(plain, bucket, prefix);
    const rows = await mapLimit(objects, 8, async (o) => {
      const info = await describeObject(plain, bucket, o.key);
      return info.encrypted
        ? {
            key: o.key,
            encrypted: true,
            plaintextBytes: info.plaintextBytes,
            storedBytes: info.storedBytes,
            keyId: info.header.keyId,
          }
        : { key: o.key, encrypted: false, storedBytes: info.storedBytes };
    });
    context.report(
      { bucket, prefix, objects: rows },
      rows.map(
        (r) =>
          `${String(r.encrypted ? r.plaintextBytes : r.storedBytes).padStart(14)}  ${r.encrypted ? `encrypted (${r.keyId})` : 'plaintext'.padEnd(10)}  ${r.key}`,
      ),
    );
  },
};
