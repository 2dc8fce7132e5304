import { CliError, ExitCode } from './exit-codes';

/** Ctrl-C (or SIGTERM): abort in-flight requests and let the command finish cleanly with exit code 130. */
export function interruptible(): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** What became of an interrupted upload, for the message. */
export type InterruptedUpload = 'resumable' | 'aborted' | 'single request';

/** Exit 130, saying what to do next. */
export function interrupted(bucket: string, key: string, upload: InterruptedUpload): CliError {
  const destination = `s3://${bucket}/${key}`;
  const message = {
    resumable: `interrupted; run the same command again to resume the upload to ${destination}`,
    aborted: `interrupted; the upload to ${destination} was aborted`,
    'single request': `interrupted before ${destination} was confirmed stored; run the command again`,
  }[upload];
  return new CliError(ExitCode.INTERRUPTED, message);
}
