import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { CliError, ExitCode } from './exit-codes';

/** A command whose standard output is `put`'s input (`--from-command`). */
export interface SourceCommand {
  /**
   * The command's standard output. It fails as soon as the command exits
   * other than with status 0, even while a child of the command still holds
   * the pipe open; and ends when `signal` aborts.
   */
  readonly stdout: Readable;
  /**
   * Resolves once the command exited with status 0; otherwise rejects with
   * exit code 1, saying how it ended (or at once when `signal` aborted). Call
   * it before the upload is committed: a pipe's end of file looks the same
   * whether the command finished or died.
   */
  succeeded(): Promise<void>;
  /** Ends the command (SIGTERM) if it still runs, and stops reading it: the upload failed. */
  stop(): void;
}

/**
 * Runs `command` through the shell (`/bin/sh -c` on POSIX). Its stdin is
 * empty, its stderr ours; it stays in our process group, so a terminal's
 * Ctrl-C reaches it, and it keeps the terminal (an ssh password prompt
 * works). The command's text is never repeated in messages: it may carry
 * secrets of its own.
 */
export function startSourceCommand(command: string, signal: AbortSignal): SourceCommand {
  const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'inherit'] });
  const stdout = child.stdout as Readable;
  // Whoever reads sees a failure through its own listener; this one only keeps a
  // failure after the reader is gone from being an uncaught 'error'.
  stdout.on('error', () => {});
  const stop = () => {
    stdout.destroy();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  const failure = endOf(child).then((end) => {
    const error = failureOf(end);
    if (error) stdout.destroy(error);
    return error;
  });
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => {
      stop();
      reject(new Error('interrupted')); // put says what became of the upload
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  return {
    stdout,
    succeeded: async () => {
      const error = await Promise.race([failure, aborted]);
      if (error) throw error;
    },
    stop,
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

/** The error `put` fails with for a command that ended as `end`; undefined for status 0. */
function failureOf(end: End): CliError | undefined {
  if ('error' in end)
    return new CliError(ExitCode.FAILURE, `--from-command could not be started (${end.error.message})`);
  if (end.signal !== null) return new CliError(ExitCode.FAILURE, `--from-command was killed by ${end.signal}`);
  if (end.code !== 0) return new CliError(ExitCode.FAILURE, `--from-command exited with status ${end.code}`);
  return undefined;
}
