import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { CliError, ExitCode } from './exit-codes';

/** A command whose standard output is `put`'s input (`--from-command`). */
export interface SourceCommand {
  /** The command's standard output. */
  readonly stdout: Readable;
  /**
   * Resolves once the command exited with status 0; otherwise rejects with
   * exit code 1, saying how it ended. Call it before the upload is committed:
   * a pipe's end of file looks the same whether the command finished or died.
   */
  succeeded(): Promise<void>;
  /** Ends the command (SIGTERM) if it still runs: the upload failed and reads no more. */
  stop(): void;
}

/**
 * Runs `command` through the shell (`/bin/sh -c` on POSIX), its stdin and
 * stderr those of this process, its stdout a pipe. The command's text is
 * never repeated in messages: it may carry secrets of its own.
 */
export function startSourceCommand(command: string): SourceCommand {
  const child = spawn(command, { shell: true, stdio: ['inherit', 'pipe', 'inherit'] });
  const ended = endOf(child);
  return {
    stdout: child.stdout as Readable,
    succeeded: async () => {
      const end = await ended;
      if ('error' in end) {
        throw new CliError(ExitCode.FAILURE, `--from-command could not be started (${end.error.message})`);
      }
      if (end.signal !== null) {
        throw new CliError(ExitCode.FAILURE, `--from-command was killed by ${end.signal}`);
      }
      if (end.code !== 0) throw new CliError(ExitCode.FAILURE, `--from-command exited with status ${end.code}`);
    },
    stop: () => {
      child.stdout?.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

type End = { code: number | null; signal: NodeJS.Signals | null } | { error: Error };

/** How `child` ended: its exit status or signal, or why it could not be started. */
function endOf(child: ChildProcess): Promise<End> {
  return new Promise((resolve) => {
    child.once('error', (error) => resolve({ error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}
