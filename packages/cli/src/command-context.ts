import type { Writable } from 'node:stream';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { LocalKeyring } from '@encrypted-stream/codec';
import type { EncryptionPlugin } from '@encrypted-stream/s3';
import { keyringPath, loadKeyring } from './keyring-file';
import { printable, printableJson } from './terminal-text';

/** Options every command understands. */
export interface GlobalOptions {
  readonly keyring?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly pathStyle: boolean;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
}

/** What a command runs with: options, output streams, and lazily built keyring and clients. */
export class CommandContext {
  readonly options: GlobalOptions;
  readonly stdout: Writable;
  readonly stderr: Writable;
  #keyring: Promise<LocalKeyring> | undefined;
  #clients: { plain: S3Client; encrypted: S3Client; plugin: EncryptionPlugin } | undefined;

  constructor(options: GlobalOptions, stdout: Writable, stderr: Writable) {
    this.options = options;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** The keyring from --keyring or $ENCRYPTED_STREAM_KEYRING. */
  keyring(): Promise<LocalKeyring> {
    this.#keyring ??= loadKeyring(keyringPath(this.options.keyring));
    return this.#keyring;
  }

  /** S3 client settings the AWS way: default credential chain and region, plus our flags. */
  s3Config(): S3ClientConfig {
    const { endpoint, region, profile, pathStyle } = this.options;
    return {
      ...(endpoint ? { endpoint } : {}),
      ...(region ? { region } : {}),
      ...(profile ? { profile } : {}),
      ...(pathStyle ? { forcePathStyle: true } : {}),
    };
  }

  /** A plain client and an encrypting one (the plugin on a second client). */
  async clients() {
    if (!this.#clients) {
      const keyring = await this.keyring();
      // Loaded here rather than at start-up: the local commands never need them.
      const { S3Client } = await import('@aws-sdk/client-s3');
      const { getEncryptionPlugin } = await import('@encrypted-stream/s3');
      const plain = new S3Client(this.s3Config());
      const encrypted = new S3Client(this.s3Config());
      const plugin = getEncryptionPlugin(encrypted, { keyring });
      encrypted.middlewareStack.use(plugin);
      this.#clients = { plain, encrypted, plugin };
    }
    return this.#clients;
  }

  /** Whether progress bars may be drawn. */
  get showProgress(): boolean {
    return !this.options.quiet && !this.options.json;
  }

  /**
   * Prints a result: JSON with --json, else the human lines (to stderr when
   * stdout carries data). Both are escaped for the terminal (terminal-text.ts):
   * results hold S3 keys and metadata that whoever writes the bucket chose.
   */
  report(result: Record<string, unknown>, human: string | string[], dataOnStdout = false): void {
    const out = dataOnStdout ? this.stderr : this.stdout;
    if (this.options.json) out.write(`${printableJson(result)}\n`);
    else if (!this.options.quiet) out.write(`${([] as string[]).concat(human).map(printable).join('\n')}\n`);
  }

  /** Detail for --verbose (escaped like {@link report}). */
  debug(message: string): void {
    if (this.options.verbose) this.stderr.write(`${printable(message)}\n`);
  }
}
