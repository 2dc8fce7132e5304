/**
 * Process exit codes, documented in the CLI's `--help` and the README.
 * @public
 */
export const ExitCode = {
  OK: 0,
  /** Anything not covered below. */
  FAILURE: 1,
  /** Bad arguments or usage. */
  USAGE: 2,
  /**
   * Keyring missing, unreadable, malformed, too open, or lacking the object's
   * key id (a recipient without its identity unwraps nothing); KMS refusing the
   * key (access denied, disabled, unusable).
   */
  KEYRING: 3,
  /**
   * Data failed authentication or is malformed, truncated or not encrypted;
   * also a header or key block that does not open under the keyring's key
   * with its id (tampered), and an altered `put` resume journal.
   */
  INTEGRITY: 4,
  /** S3, KMS (throttled, unavailable) or the network refused or failed. */
  S3: 5,
  /** `put` resume refused: the source changed since the interrupted upload (or its journal is outdated). */
  SOURCE_CHANGED: 6,
  /** Interrupted (Ctrl-C); a file upload can be resumed by running the same command. */
  INTERRUPTED: 130,
} as const;

/** A failure with a one-line message and an exit code, shown without a stack trace. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** A usage mistake: exit code 2. */
export const usageError = (message: string) => new CliError(ExitCode.USAGE, message);
