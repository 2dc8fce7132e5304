import type { Command } from '../command';
import { type DescribedError, describeError, reportedFailure } from '../errors-to-exit';
import { CliError, usageError } from '../exit-codes';
import { KEYRING_ENV } from '../keyring-file';
import { mapLimit } from '../map-limit';
import { parseS3Url } from '../s3-url';
import { describeObject } from './object-description';
import { listAllObjects } from './object-listing';
import { verifyHeader } from './verify-header';

const UNVERIFIED_LISTING = `no keyring (--keyring, --identity, --kms-key-id… or $${KEYRING_ENV}): the sizes and key ids above are what each object's metadata claims, unverified`;

/** `ls`: objects under a prefix with plaintext sizes and whether each is encrypted. */
export const ls: Command = {
  name: 'ls',
  usage: 'ls s3://BUCKET[/PREFIX]',
  summary: 'list objects with plaintext sizes and whether each is encrypted (headers verified with a keyring)',
  help: [
    'One HEAD per object, no download. With a keyring each header is authenticated (one key unwrap;',
    'with KMS one Decrypt per object):',
    'a header that fails is listed as FAILED and ls exits with its code once all are listed (4 for',
    'tampering, 3 for a key the keyring lacks). Without a keyring ls shows what the metadata says,',
    'each row marked unverified ("verified": false in --json), and says so on stderr.',
  ],
  keyrings: true,
  options: {},
  examples: ['encrypted-stream ls s3://bucket/backups/', 'encrypted-stream ls s3://bucket --json'],
  async run(context, args) {
    if (args.length !== 1) throw usageError('ls needs one s3://bucket/prefix');
    const { bucket, key: prefix } = parseS3Url(args[0] as string, true);
    const keyring = context.hasKeyring ? await context.reader() : undefined;
    const plain = await context.plainClient();
    const objects = await listAllObjects(plain, bucket, prefix);
    let failed: DescribedError | undefined;
    let failures = 0;
    const rows = await mapLimit(objects, 8, async (o) => {
      const info = await describeObject(plain, bucket, o.key);
      if (!info.encrypted) return { key: o.key, encrypted: false, storedBytes: info.storedBytes };
      const row = {
        key: o.key,
        encrypted: true,
        verified: false,
        plaintextBytes: info.plaintextBytes,
        storedBytes: info.storedBytes,
        keyId: info.header.keyId,
      };
      if (!keyring) return row;
      try {
        const binding = await verifyHeader(info.header, keyring, bucket, o.key);
        return { ...row, verified: binding !== 'custom', context: binding };
      } catch (error) {
        const described = describeError(error);
        failed = reportedFailure(failed, described);
        failures++;
        return { ...row, error: described.message };
      }
    });
    const status = (r: (typeof rows)[number]) => {
      if (!('keyId' in r)) return 'plaintext'.padEnd(10);
      if ('error' in r) return `FAILED (${r.keyId}): ${r.error}`;
      if (!r.verified) return `encrypted (${r.keyId}, unverified)`;
      return `encrypted (${r.keyId})`;
    };
    context.report(
      { bucket, prefix, verified: keyring !== undefined, objects: rows },
      rows.map(
        (r) =>
          `${String('plaintextBytes' in r ? r.plaintextBytes : r.storedBytes).padStart(14)}  ${status(r)}  ${r.key}`,
      ),
    );
    if (!keyring && !context.options.quiet && !context.options.json && rows.some((r) => r.encrypted)) {
      context.stderr.write(`encrypted-stream: ${UNVERIFIED_LISTING}\n`);
    }
    if (failed)
      throw new CliError(failed.exitCode, `${failures} object header(s) failed verification: ${failed.message}`);
  },
};
