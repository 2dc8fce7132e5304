import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { decryptStream, encryptStream, openEncryptedFile } from '@encrypted-stream/codec';
import { writeOutput } from '../atomic-output';
import type { Command } from '../command';
import { stringOption } from '../command';
import { CliError, ExitCode, usageError } from '../exit-codes';
import { counted, Progress } from '../progress';
import { parseRangeArgument, parseSize, resolveRangeArgument } from '../sizes';

/** Input stream and its size (undefined for stdin). */
async function openInput(path: string, stdin: Readable): Promise<{ stream: AsyncIterable<Uint8Array>; size?: number }> {
  if (path === '-') return { stream: stdin };
  const { size } = await stat(path);
  return { stream: createReadStream(path, { highWaterMark: 1024 * 1024 }), size };
}

/** `encrypt`: a local file or stdin to the self-contained framing. */
export const encrypt: Command = {
  name: 'encrypt',
  usage: 'encrypt [IN|-] [-o OUT|-] [--chunk-size 64KiB]',
  summary: 'encrypt a file or stdin (self-contained format)',
  options: { output: { type: 'string', short: 'o' }, 'chunk-size': { type: 'string' } },
  async run(context, args, values) {
    if (args.length > 1) throw usageError('encrypt takes one input');
    const input = args[0] ?? '-';
    const output = stringOption(values, 'output') ?? '-';
    const chunkText = stringOption(values, 'chunk-size');
    const chunkSize = chunkText ? parseSize(chunkText, '--chunk-size') : undefined;
    const keyring = await context.keyring();
    const { stream, size } = await openInput(input, process.stdin);
    const progress = new Progress('encrypt', size, context.showProgress && output !== '-');
    const encrypted = encryptStream(counted(stream, progress), {
      keyring,
      ...(chunkSize ? { chunkSize } : {}),
      ...(size === undefined ? {} : { plaintextSize: size }),
    });
    await writeOutput(output, encrypted, context.stdout);
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
  options: { output: { type: 'string', short: 'o' }, range: { type: 'string' } },
  async run(context, args, values) {
    if (args.length > 1) throw usageError('decrypt takes one input');
    const input = args[0] ?? '-';
    const output = stringOption(values, 'output') ?? '-';
    const rangeText = stringOption(values, 'range');
    if (rangeText !== undefined && input === '-') throw usageError('--range needs a file, not stdin');
    const range = rangeText === undefined ? undefined : parseRangeArgument(rangeText); // before the keyring is read
    const keyring = await context.keyring();
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
    const { stream, size } = await openInput(input, process.stdin);
    const progress = new Progress('decrypt', size, context.showProgress && output !== '-');
    await writeOutput(output, decryptStream(counted(stream, progress), { keyring }), context.stdout);
    progress.finish();
    context.report({ input, output }, `decrypted ${input} to ${output}`, output === '-');
  },
};
