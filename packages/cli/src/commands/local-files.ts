import { decryptStream, encryptStream } from '@encrypted-stream/codec';
import { createStreamCipher } from '@encrypted-stream/codec/low-level';
import { decryptFile, encryptFile, openEncryptedFile, writeAtomically } from '@encrypted-stream/codec/node';
import { writeOutput } from '../atomic-output';
import type { Command } from '../command';
import { stringOption } from '../command';
import { CliError, ExitCode, usageError } from '../exit-codes';
import { closeInput, openInput } from '../local-input';
import { counted, Progress } from '../progress';
import { parseRangeArgument, parseSize, resolveRangeArgument } from '../sizes';

/** `encrypt`: a local file or stdin to the self-contained framing. */
export const encrypt: Command = {
  name: 'encrypt',
  usage: 'encrypt [IN|-] [-o OUT|-] [--chunk-size 64KiB]',
  summary: 'encrypt a file or stdin (self-contained format)',
  keyrings: true,
  help: [
    'Writes the self-contained format (header, key block, chunks; FORMAT.md). A file to a file records',
    'its plaintext size; stdin records none. A file output appears only when complete.',
  ],
  options: {
    output: { type: 'string', short: 'o', value: 'OUT', description: 'output file, or - for stdout (default)' },
    'chunk-size': {
      type: 'string',
      value: 'SIZE',
      description: 'plaintext bytes per chunk, a power of two from 4KiB to 16MiB (default 64KiB)',
    },
  },
  examples: [
    'encrypted-stream encrypt notes.txt -o notes.txt.es',
    'tar -c dir | encrypted-stream encrypt > dir.tar.es',
    'tar -c dir | encrypted-stream encrypt --recipient es-pub1… > dir.tar.es',
  ],
  async run(context, args, values) {
    if (args.length > 1) throw usageError('encrypt takes one input');
    const input = args[0] ?? '-';
    const output = stringOption(values, 'output') ?? '-';
    const chunkText = stringOption(values, 'chunk-size');
    const chunkSize = chunkText ? parseSize(chunkText, '--chunk-size') : undefined;
    const { keyring } = await (await context.keyrings()).writer('encrypt');
    const source = await openInput(input, process.stdin, output !== '-');
    const progress = new Progress('encrypt', source.size, context.showProgress && output !== '-');
    try {
      const options = {
        keyring,
        ...(chunkSize ? { chunkSize } : {}),
        ...(source.size === undefined ? {} : { plaintextSize: source.size }),
      };
      if ('handle' in source) {
        // A regular file to a file: blocks read ahead, chunks written in flight.
        const cipher = await createStreamCipher(options);
        const handle = source.handle;
        await writeAtomically(output, (writer) =>
          encryptFile(cipher, handle, writer, { onRead: (n) => progress.add(n) }),
        );
      } else {
        await writeOutput(output, encryptStream(counted(source.stream, progress), options), context.stdout);
      }
    } finally {
      await closeInput(source);
    }
    progress.finish();
    context.report(
      { input, output, plaintextBytes: progress.done },
      `encrypted ${progress.done} bytes to ${output}`,
      output === '-',
    );
  },
};

/** `decrypt`: the whole stream, or with --range only the chunks holding it (files only). */
export const decrypt: Command = {
  name: 'decrypt',
  usage: 'decrypt [IN|-] [-o OUT|-] [--range a-b|a-|-n]',
  summary: 'decrypt a file or stdin; --range reads only the chunks it needs',
  keyrings: true,
  help: [
    'A file output appears only once every byte authenticated. --range (files only) reads and',
    'authenticates only the chunks holding the range.',
  ],
  options: {
    output: { type: 'string', short: 'o', value: 'OUT', description: 'output file, or - for stdout (default)' },
    range: {
      type: 'string',
      value: 'RANGE',
      description: 'plaintext bytes a-b (inclusive), a- or -n (the last n); --range -n works too',
    },
  },
  examples: [
    'encrypted-stream decrypt notes.txt.es -o notes.txt',
    'encrypted-stream decrypt video.es --range 1000000-1999999 > piece',
    'encrypted-stream decrypt dir.tar.es --identity ~/restore.key | tar -x',
  ],
  async run(context, args, values) {
    if (args.length > 1) throw usageError('decrypt takes one input');
    const input = args[0] ?? '-';
    const output = stringOption(values, 'output') ?? '-';
    const rangeText = stringOption(values, 'range');
    if (rangeText !== undefined && input === '-') throw usageError('--range needs a file, not stdin');
    const range = rangeText === undefined ? undefined : parseRangeArgument(rangeText); // before the keyring is read
    const keyring = await context.reader();
    if (range !== undefined) {
      const file = await openEncryptedFile(input, { keyring });
      try {
        const resolved = resolveRangeArgument(range, file.plaintextSize);
        if (!resolved)
          throw new CliError(
            ExitCode.USAGE,
            `--range ${rangeText} is outside the ${file.plaintextSize}-byte plaintext`,
          );
        const { start, end } = resolved;
        await writeOutput(output, file.read(start, end), context.stdout);
        context.report(
          { input, output, start, end, plaintextSize: file.plaintextSize },
          `decrypted bytes ${start}-${end - 1} of ${file.plaintextSize} to ${output}`,
          output === '-',
        );
      } finally {
        await file.close();
      }
      return;
    }
    const source = await openInput(input, process.stdin, output !== '-');
    const progress = new Progress('decrypt', source.size, context.showProgress && output !== '-');
    try {
      if ('handle' in source) {
        // A regular file to a file: blocks read ahead, plaintext written in flight.
        const handle = source.handle;
        await writeAtomically(output, (writer) =>
          decryptFile(handle, { keyring }, writer, { onRead: (n) => progress.add(n) }),
        );
      } else {
        await writeOutput(output, decryptStream(counted(source.stream, progress), { keyring }), context.stdout);
      }
    } finally {
      await closeInput(source);
    }
    progress.finish();
    context.report({ input, output }, `decrypted ${input} to ${output}`, output === '-');
  },
};
