import { DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import type { Command } from '../command';
import { stringOption } from '../command';
import { CliError, ExitCode, usageError } from '../exit-codes';
import { interrupted, interruptible } from '../interrupt';
import { checkChunkSize, checkPartSize, DEFAULT_PUT_PART_SIZE, partSizeFor } from '../part-size';
import { openSourceFile, putFile, type SourceFile } from '../put-file';
import { putStdin } from '../put-stdin';
import { parseS3Url } from '../s3-url';
import { parseSize } from '../sizes';
import { startSourceCommand } from '../source-command';

/** `put`: encrypted upload of a file (resumable) or stdin; one PutObject when it fits in one part. */
export const put: Command = {
  name: 'put',
  usage: 'put FILE|- s3://BUCKET/KEY [--part-size SIZE] [--chunk-size SIZE] [--concurrency N] [--restart] [options]',
  summary: 'upload a file or stdin encrypted; run again after an interruption to resume',
  help: [
    'Input that fits in one part is sent as one PutObject; larger input as a parallel multipart upload.',
    "A FILE's plaintext size is recorded in the authenticated header, so a cut object fails to read;",
    'so is that of stdin (-) ending within one part. Longer stdin records no size (it is not known up',
    'front): only its final chunk marks the end.',
    '',
    "A pipe's end looks the same whether its writer finished or died: `tar -c dir | put -` stores a",
    'truncated tar if tar fails halfway. With --from-command CMD, put runs CMD itself, reads its',
    'output (its stdin is empty), and stores the object only once CMD exited with status 0;',
    'otherwise (or if it was killed) the upload is abandoned, nothing is stored, exit 1.',
    '',
    'Part sizes follow S3: 5MiB … 5GiB once encrypted (4GiB on Node 20, whose buffers end there),',
    "at most 10000 parts. Without --part-size a FILE's parts are 8MiB, or the smallest whole MiB that",
    'keeps it to 10000 parts. Both are checked before anything is read or sent, and the message says',
    'what to set.',
    '',
    'Memory: each part in flight holds its plaintext and its ciphertext, 2–2.5 × --part-size, on top',
    'of ~105 MiB for Node and the S3 client: measured peaks 124 MiB at 8MiB × --concurrency 1, 181 MiB',
    'at the default 8MiB × 4, 240 MiB at 8MiB × 8. Lower either to use less.',
    '',
    'An interrupted put of a FILE resumes when run again with the same arguments. The file counts as',
    'unchanged when its size, modification and status-change times (ns), inode and device are (as in',
    'restic); otherwise exit 6, and --restart starts over. A rerun with another --part-size or',
    '--chunk-size than the interrupted upload used is refused (exit 2): its parts were cut at the old',
    'sizes; give the old ones to resume, or add --restart to start over with the new ones.',
    '',
    "Nothing is hashed unless --verify-source: then every part's keyed digest (HMAC under a key derived",
    "from the upload's data key) is kept in the journal and the parts already uploaded are read and",
    'checked again before resuming. A journal that was altered or names another destination: exit 4,',
    'nothing uploaded. One written by an older version (no data key, or plaintext SHA-256 per part) is',
    'not trusted: exit 6, use --restart.',
    '',
    "The journal (0600) keeps the upload's data key, sealed under a key file of its own beside it",
    '(0600) and authenticated with it, until the upload completes or --restart abandons it; then both',
    'are deleted. So a host that can wrap but not unwrap (--recipient alone, or KMS Encrypt without',
    'Decrypt) resumes its own uploads, and still reads nothing. A rerun with another keyring than the',
    "upload's (another recipient, KMS key or primary key) is refused (exit 2): give the old one, or",
    '--restart.',
    'Journals: --state-dir, $ENCRYPTED_STREAM_STATE_DIR, else $XDG_STATE_HOME or ~/.local/state/encrypted-stream.',
  ],
  keyrings: true,
  options: {
    'part-size': {
      type: 'string',
      value: 'SIZE',
      description:
        'plaintext bytes per part, 5MiB … 5GiB, a multiple of the chunk size (default 8MiB, more for files above 78 GiB)',
    },
    'chunk-size': {
      type: 'string',
      value: 'SIZE',
      description: 'plaintext bytes per authenticated chunk, a power of two from 4KiB to 16MiB (default 64KiB)',
    },
    concurrency: { type: 'string', value: 'N', description: 'parts uploaded at once, 1 … 64 (default 4)' },
    restart: {
      type: 'boolean',
      description: 'abandon an interrupted upload of this file to this object (aborted on S3) and start over',
    },
    'verify-source': {
      type: 'boolean',
      description: 'keep a keyed digest per part and re-check uploaded parts before resuming (files only)',
    },
    'state-dir': { type: 'string', value: 'DIR', description: 'where resume journals are kept (see above)' },
    'from-command': {
      type: 'string',
      value: 'CMD',
      description: 'with -: read the output of CMD (run by the shell); stored only if CMD exits with status 0',
    },
  },
  examples: [
    'encrypted-stream put backup.tar s3://bucket/backups/backup.tar',
    'encrypted-stream put backup.tar s3://bucket/backups/backup.tar --part-size 64MiB --concurrency 8',
    "encrypted-stream put - s3://bucket/backups/dir.tar --from-command 'tar -c dir'   # stored only if tar succeeds",
    'tar -c dir | encrypted-stream put - s3://bucket/backups/dir.tar',
    'encrypted-stream put backup.tar s3://bucket/backups/backup.tar --restart    # start an interrupted upload over',
    'encrypted-stream put backup.tar s3://bucket/backups/backup.tar --recipient es-pub1…   # write-only host',
    'encrypted-stream put backup.tar s3://bucket/backups/backup.tar --kms-key-id arn:aws:kms:REGION:ACCOUNT:key/ID',
  ],
  async run(context, args, values) {
    if (args.length !== 2) throw usageError('put needs a source (file or -) and an s3://bucket/key');
    const [path, url] = args as [string, string];
    const { bucket, key } = parseS3Url(url);
    const chunkText = stringOption(values, 'chunk-size');
    const chunkSize = chunkText ? parseSize(chunkText, '--chunk-size') : DEFAULT_CHUNK_SIZE;
    checkChunkSize(chunkSize);
    const partText = stringOption(values, 'part-size');
    const requested = partText ? parseSize(partText, '--part-size') : undefined;
    if (requested !== undefined) checkPartSize(requested, chunkSize);
    const concurrency = Number(stringOption(values, 'concurrency') ?? 4);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw usageError('--concurrency must be 1 … 64');
    }
    if (path === '-' && values['verify-source']) {
      throw usageError('--verify-source needs a file: an upload from stdin cannot be resumed');
    }
    const fromCommand = stringOption(values, 'from-command');
    if (fromCommand !== undefined && path !== '-') {
      throw usageError('--from-command replaces stdin: give - as the source');
    }
    if (fromCommand?.trim() === '') throw usageError('--from-command needs a command');
    // Every argument, the file's size against the part limits included, is checked before the keyring is read.
    const file: SourceFile | undefined = path === '-' ? undefined : await openSourceFile(path);
    try {
      const partSize = file
        ? partSizeFor(file.size, requested, chunkSize, path)
        : (requested ?? Math.max(DEFAULT_PUT_PART_SIZE, chunkSize));
      const { keyring, keyId } = await (await context.keyrings()).writer('put');
      const plain = await context.plainClient();
      const encrypting = async () => (await context.encryptingClient({ keyring, chunkSize })).encrypted;
      const interrupt = interruptible();
      const settings = {
        context,
        plain,
        encrypting,
        keyring,
        keyId,
        bucket,
        key,
        layout: { partSize, chunkSize },
        concurrency,
        signal: interrupt.signal,
      };
      try {
        if (file) {
          await putFile(settings, file, {
            restart: values.restart === true,
            verifySource: values['verify-source'] === true,
            stateDir: stringOption(values, 'state-dir'),
          });
        } else if (fromCommand !== undefined) {
          // Interrupted, it ends the command too (reading would wait for its next output).
          const source = startSourceCommand(fromCommand, interrupt.signal);
          try {
            await putStdin(settings, source.stdout, () => source.succeeded());
          } catch (error) {
            source.stop(); // after a failure of ours: it would otherwise block on a full pipe
            const reported = error instanceof CliError && error.exitCode === ExitCode.INTERRUPTED;
            if (interrupt.signal.aborted && !reported) throw interrupted(bucket, key, 'aborted');
            throw error;
          }
        } else await putStdin(settings, process.stdin);
      } finally {
        interrupt.dispose();
      }
    } finally {
      await file?.handle.close();
    }
  },
};
