import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Command, OptionSpec } from './command';
import { CommandContext } from './command-context';
import { describeError } from './errors-to-exit';
import { ExitCode, usageError } from './exit-codes';
import { KEYRING_ENV } from './keyring-file';
import { printable } from './terminal-text';

/**
 * Every command by name, its module loaded only when it runs (or for --help):
 * `encrypt` and `decrypt` then start without the AWS SDK, about 60 ms and
 * 8 MB of heap less (which every garbage collection would have to walk).
 */
const COMMANDS: readonly (readonly [string, () => Command])[] = [
  ['keygen', () => (require('./commands/keygen') as typeof import('./commands/keygen')).keygen],
  ['encrypt', () => (require('./commands/local-files') as typeof import('./commands/local-files')).encrypt],
  ['decrypt', () => (require('./commands/local-files') as typeof import('./commands/local-files')).decrypt],
  ['put', () => (require('./commands/put') as typeof import('./commands/put')).put],
  ['get', () => (require('./commands/get') as typeof import('./commands/get')).get],
  ['head', () => (require('./commands/head') as typeof import('./commands/head')).head],
  ['ls', () => (require('./commands/ls') as typeof import('./commands/ls')).ls],
  ['verify', () => (require('./commands/verify') as typeof import('./commands/verify')).verify],
  ['rotate', () => (require('./commands/rotate') as typeof import('./commands/rotate')).rotate],
  ['serve', () => (require('./commands/serve') as typeof import('./commands/serve')).serve],
  ['share', () => (require('./commands/serve') as typeof import('./commands/serve')).share],
];

const GLOBAL_OPTIONS: OptionSpec = {
  keyring: { type: 'string', short: 'k' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  'path-style': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
};

/** The help text, exit codes included. */
export function usage(): string {
  return [
    'encrypted-stream — client-side encrypted backups to S3 and local files',
    '',
    'usage: encrypted-stream COMMAND [options]',
    '',
    ...COMMANDS.map(([, load]) => load()).map((c) => `  ${c.usage}\n      ${c.summary}`),
    '',
    'options for every command:',
    `  -k, --keyring FILE   keyring file (default: $${KEYRING_ENV}); must be mode 0600`,
    '  --endpoint URL       S3 endpoint (default: AWS); --region, --profile, --path-style as for the AWS CLI',
    '  --json               machine-readable result on stdout (stderr when stdout carries data)',
    '  -q, --quiet          no progress or summary      -v, --verbose   more detail on errors',
    '',
    'credentials and region come from the AWS SDK default chain (environment, profile, instance role).',
    'Against servers that reject aws-chunked uploads (e.g. Ceph RGW) set AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED.',
    '',
    'exit codes: 0 ok, 1 failure, 2 usage, 3 keyring, 4 integrity (authentication/format), 5 S3 or network,',
    '            6 source changed (put resume refused), 130 interrupted (put of a file resumes when run again)',
    'tampering exits 4: a changed or cut body, header, wrapped key or encryption metadata, another context,',
    '            an altered put resume journal; except an edited key id, which reads as a key the keyring lacks (3).',
    '            A keyring holding a different key under the same id also exits 4 (indistinguishable from tampering).',
    'keys, metadata and messages are printed with control and bidi characters escaped (\\x1b, \\u{202e}).',
  ].join('\n');
}

/** Runs the CLI; returns the exit code. Errors are one line (a stack only with --verbose). */
export async function main(
  argv: string[],
  stdout: Writable = process.stdout,
  stderr: Writable = process.stderr,
): Promise<number> {
  const name = argv[0];
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    stdout.write(`${usage()}\n`);
    return name ? ExitCode.OK : ExitCode.USAGE;
  }
  let verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    const command = COMMANDS.find(([commandName]) => commandName === name)?.[1]();
    if (!command) throw usageError(`unknown command "${name}" (see encrypted-stream --help)`);
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: argv.slice(1),
        options: { ...GLOBAL_OPTIONS, ...command.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      // One line, but keep parseArgs' hints (e.g. "use '--range=-XYZ'" for a value starting with a dash).
      throw usageError(`${name}: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}`);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      const details = (command.help ?? []).map((line) => `  ${line}\n`).join('');
      stdout.write(`usage: encrypted-stream ${command.usage}\n  ${command.summary}\n${details}`);
      return ExitCode.OK;
    }
    const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
    verbose = values.verbose === true;
    const context = new CommandContext(
      {
        keyring: str('keyring'),
        endpoint: str('endpoint'),
        region: str('region'),
        profile: str('profile'),
        pathStyle: values['path-style'] === true,
        json: values.json === true,
        quiet: values.quiet === true,
        verbose,
      },
      stdout,
      stderr,
    );
    await command.run(context, positionals, values as Record<string, string | boolean | undefined>);
    return ExitCode.OK;
  } catch (error) {
    const { exitCode, message } = describeError(error);
    // Messages quote keys, metadata and server replies: escaped, and so always one line.
    stderr.write(`encrypted-stream: ${printable(message)}\n`);
    if (verbose && error instanceof Error && error.stack) {
      stderr.write(`${error.stack.split('\n').map(printable).join('\n')}\n`);
    }
    return exitCode;
  }
}
