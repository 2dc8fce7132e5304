import type { Writable } from 'node:stream';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { EncryptionOptions, EncryptionPlugin } from '@encrypted-stream/s3';
import { KEYRING_ENV } from './keyring-file';
import { anyKeyringOption, type KeyringOptions } from './keyring-options';
import { type KeyringSet, Keyrings } from './keyrings';
import { silenceSdkNodeVersionWarning } from './sdk-warnings';
import { printable, printableJson } from './terminal-text';

/** Options every command understands. */
export interface GlobalOptions {
  readonly keyring?: string;
  /** --keyring and the keyring options of the command (keyring-options.ts). */
  readonly keyrings: KeyringOptions;
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
  #keyrings: Promise<Keyrings> | undefined;
  #plain: Promise<S3Client> | undefined;
  #clients: { plain: S3Client; encrypted: S3Client; plugin: EncryptionPlugin } | undefined;

  constructor(options: GlobalOptions, stdout: Writable, stderr: Writable) {
    this.options = options;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** Whether a keyring was named (a keyring option or $ENCRYPTED_STREAM_KEYRING): `head` and `ls` verify only then. */
  get hasKeyring(): boolean {
    return anyKeyringOption(this.options.keyrings) || Boolean(process.env[KEYRING_ENV]);
  }

  /** The keyrings the options name (checked, files read; $ENCRYPTED_STREAM_KEYRING when no option names one). */
  keyrings(): Promise<Keyrings> {
    this.#keyrings ??= Keyrings.load(this.options.keyrings);
    return this.#keyrings;
  }

  /** Every keyring given, for reading (exit 3 when there is none). */
  async reader(): Promise<KeyringSet> {
    return (await this.keyrings()).reader();
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

  /** A new S3 client with our settings (the SDK loaded here: the local commands never need it). */
  async #newClient(): Promise<S3Client> {
    silenceSdkNodeVersionWarning(); // before the client: the SDK checks when the first one is made
    // require, not import(): the CLI is CommonJS, and a real import() sends the SDK's CommonJS
    // bundle through Node's ES module loader, which parses it once more (about 60 ms).
    const { S3Client } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    return new S3Client(this.s3Config());
  }

  /** A plain client: needs no keyring (`head` and `ls` show unverified metadata without one). */
  plainClient(): Promise<S3Client> {
    this.#plain ??= this.#newClient();
    return this.#plain;
  }

  /** A plain client and an encrypting one (the plugin on a second client). */
  async clients() {
    if (!this.#clients) {
      const keyring = await this.reader();
      const plain = await this.plainClient();
      const { encrypted, plugin } = await this.encryptingClient({ keyring });
      this.#clients = { plain, encrypted, plugin };
    }
    return this.#clients;
  }

  /** A new client with the encryption plugin, for options other than the defaults (e.g. `put --chunk-size`). */
  async encryptingClient(options: EncryptionOptions): Promise<{ encrypted: S3Client; plugin: EncryptionPlugin }> {
    const { getEncryptionPlugin } = require('@encrypted-stream/s3') as typeof import('@encrypted-stream/s3');
    const encrypted = await this.#newClient();
    const plugin = getEncryptionPlugin(encrypted, options);
    encrypted.middlewareStack.use(plugin);
    return { encrypted, plugin };
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
