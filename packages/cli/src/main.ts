import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { type Command, parseArgsOptions } from './command';
import { CommandContext } from './command-context';
import { joinDashValues } from './dash-values';
import { describeError } from './errors-to-exit';
import { ExitCode, usageError } from './exit-codes';
import { GLOBAL_OPTIONS } from './global-options';
import { commandHelp, generalHelp } from './help-text';
import { KEYRING_OPTIONS, keyringOptionsOf } from './keyring-options';
import { printable } from './terminal-text';
import { packageVersion } from './version';

/**
 * Every command by name, its module loaded only when it runs (or for help):
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

/** The command called `name`, or a usage error naming the way to the list. */
function findCommand(name: string): Command {
  const command = COMMANDS.find(([commandName]) => commandName === name)?.[1]();
  if (!command) throw usageError(`unknown command "${name}" (see encrypted-stream --help)`);
  return command;
}

/** Every command's module, loaded (for test/unit/help-table.test.ts: the static help table matches them). */
export function loadCommands(): readonly Command[] {
  return COMMANDS.map(([, load]) => load());
}

/** The general help text: commands, global options, exit codes (from a static table: no command module loads). */
export function usage(): string {
  return generalHelp();
}

/** Runs the CLI; returns the exit code. Errors are one line (a stack only with --verbose). */
export async function main(
  argv: string[],
  stdout: Writable = process.stdout,
  stderr: Writable = process.stderr,
): Promise<number> {
  const name = argv[0];
  let verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    if (!name || name === '--help' || name === '-h') {
      stdout.write(`${usage()}\n`);
      return name ? ExitCode.OK : ExitCode.USAGE;
    }
    if (name === '--version') {
      stdout.write(`encrypted-stream ${packageVersion()}\n`);
      return ExitCode.OK;
    }
    if (name === 'help') {
      // `help put` is `put --help`, as in git and aws-cli.
      const topic = argv[1];
      stdout.write(`${topic && !topic.startsWith('-') ? commandHelp(findCommand(topic)) : usage()}\n`);
      return ExitCode.OK;
    }
    const command = findCommand(name);
    const spec = { ...GLOBAL_OPTIONS, ...(command.keyrings ? KEYRING_OPTIONS : {}), ...command.options };
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: joinDashValues(argv.slice(1), spec),
        options: parseArgsOptions(spec),
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw usageError(`${name}: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}`);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      stdout.write(`${commandHelp(command)}\n`);
      return ExitCode.OK;
    }
    const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
    verbose = values.verbose === true;
    const context = new CommandContext(
      {
        keyring: str('keyring'),
        keyrings: keyringOptionsOf(values as Record<string, string | boolean | undefined>),
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
