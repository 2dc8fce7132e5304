import type { Command, OptionSpec } from './command';
import { GLOBAL_OPTIONS } from './global-options';
import { KEYRING_HELP, KEYRING_OPTIONS } from './keyring-options';

const WIDTH = 100;

/** `text` broken into lines of at most `width` characters (at spaces; a longer word stays whole). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** Two columns: `-k, --keyring FILE` and its description, wrapped under itself. */
function optionLines(spec: OptionSpec): string[] {
  const rows = Object.entries(spec).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`,
    `${o.description}${o.multiple && !o.once ? ' (repeatable)' : ''}`,
  ]);
  const left = Math.max(...rows.map(([flag]) => (flag as string).length)) + 2;
  return rows.flatMap(([flag, description]) =>
    wrap(description as string, WIDTH - 2 - left).map(
      (line, i) => `  ${(i === 0 ? (flag as string) : '').padEnd(left)}${line}`,
    ),
  );
}

/** What exit codes mean (src/exit-codes.ts), for the general help. */
const EXIT_CODES = [
  'exit codes: 0 ok, 1 failure, 2 usage, 3 keyring, 4 integrity (authentication/format), 5 S3 or network,',
  '            6 source changed (put resume refused), 130 interrupted (put of a file resumes when run again)',
  'keyring (3) includes a key the keyrings given lack, a recipient without its identity, and KMS refusing',
  '            the key (ES_KMS_ACCESS_DENIED, ES_KMS_KEY_DISABLED, …); KMS throttled or unavailable is 5.',
  'tampering exits 4: a changed or cut body, header, wrapped key or encryption metadata, another context,',
  '            an altered put resume journal; except an edited key id, which reads as a key the keyring lacks (3).',
  '            A keyring holding a different key under the same id also exits 4 (indistinguishable from tampering).',
  'keys, metadata and messages are printed with control and bidi characters escaped (\\x1b, \\u{202e}).',
];

/**
 * Every command's usage line and summary, as its module states them, for the
 * general help: `--help` then loads no command module (with them the AWS SDK,
 * about 85 ms). test/unit/help-table.test.ts checks this table against the modules.
 */
export const COMMAND_SUMMARIES: readonly Pick<Command, 'name' | 'usage' | 'summary'>[] = [
  {
    name: 'keygen',
    usage: 'keygen (--keyring FILE [--id ID] | --identity FILE) [--add]',
    summary: 'create a keyring file or an X25519 identity file (prints its recipient), or --add a new key to one',
  },
  {
    name: 'encrypt',
    usage: 'encrypt [IN|-] [-o OUT|-] [--chunk-size 64KiB]',
    summary: 'encrypt a file or stdin (self-contained format)',
  },
  {
    name: 'decrypt',
    usage: 'decrypt [IN|-] [-o OUT|-] [--range a-b|a-|-n]',
    summary: 'decrypt a file or stdin; --range reads only the chunks it needs',
  },
  {
    name: 'put',
    usage: 'put FILE|- s3://BUCKET/KEY [--part-size SIZE] [--chunk-size SIZE] [--concurrency N] [--restart] [options]',
    summary: 'upload a file or stdin encrypted; run again after an interruption to resume',
  },
  {
    name: 'get',
    usage: 'get s3://BUCKET/KEY [FILE|-] [--range a-b|a-|-n]',
    summary: 'download and decrypt; the file appears only once every byte authenticated',
  },
  {
    name: 'head',
    usage: 'head s3://BUCKET/KEY',
    summary: 'show plaintext size, format, chunk size, key id and context of an object (verified with a keyring)',
  },
  {
    name: 'ls',
    usage: 'ls s3://BUCKET[/PREFIX]',
    summary: 'list objects with plaintext sizes and whether each is encrypted (headers verified with a keyring)',
  },
  {
    name: 'verify',
    usage: 'verify s3://BUCKET/KEY [s3://BUCKET/KEY …]',
    summary: 'download and authenticate objects without writing plaintext',
  },
  {
    name: 'rotate',
    usage: 'rotate s3://BUCKET[/PREFIX] [--to keyring|recipient|kms]',
    summary: "re-wrap objects' data keys under one key, of any keyring type (metadata-only server-side copies)",
  },
  {
    name: 'serve',
    usage:
      'serve s3://BUCKET[/PREFIX] [--port 8080] [--host 127.0.0.1] [--allow-host NAME]… [--sign-key FILE] ' +
      '[--inline TYPE]… [--max-concurrent 32]',
    summary:
      'serve decrypted objects over HTTP with byte ranges (for browsers and media players); only to loopback, ' +
      '--host and --allow-host names',
  },
  {
    name: 'share',
    usage: 'share PATH --sign-key FILE [--expires 1h] [--base http://127.0.0.1:8080]',
    summary: 'print a signed, expiring gateway link for PATH (the object key under the served prefix)',
  },
];

/** The general help: every command with its summary, the options every command takes, exit codes. */
export function generalHelp(commands: readonly Pick<Command, 'usage' | 'summary'>[] = COMMAND_SUMMARIES): string {
  return [
    'encrypted-stream — client-side encrypted backups to S3 and local files',
    '',
    'usage: encrypted-stream COMMAND [options]',
    '       encrypted-stream help COMMAND   (or COMMAND --help): its options and examples',
    '       encrypted-stream --version',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.usage}\n      ${c.summary}`),
    '',
    'options for every command:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'credentials and region come from the AWS SDK default chain (environment, profile, instance role).',
    'Against servers that reject aws-chunked uploads (e.g. Ceph RGW) set AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED.',
    '',
    ...EXIT_CODES,
  ].join('\n');
}

/** `COMMAND --help`: usage, what it does, its options with descriptions, the global ones, examples. */
export function commandHelp(command: Command): string {
  const own = Object.keys(command.options).length > 0;
  return [
    `usage: encrypted-stream ${command.usage}`,
    '',
    `  ${command.summary}`,
    ...(command.help?.length ? ['', ...command.help.map((line) => (line ? `  ${line}` : ''))] : []),
    '',
    ...(own ? ['options:', ...optionLines(command.options), ''] : []),
    ...(command.keyrings
      ? ['keyring options:', ...optionLines(KEYRING_OPTIONS), ...KEYRING_HELP.map((line) => `  ${line}`), '']
      : []),
    'options for every command:',
    ...optionLines(GLOBAL_OPTIONS),
    ...(command.examples?.length ? ['', 'examples:', ...command.examples.map((line) => `  ${line}`)] : []),
  ].join('\n');
}
