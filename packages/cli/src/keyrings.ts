import { readFile } from 'node:fs/promises';
import { ErrorCode, KeyError, type Keyring, type LocalKeyring, RecipientKeyring } from '@encrypted-stream/codec';
import { parseRecipient, type WrappedKey } from '@encrypted-stream/codec/low-level';
import { readIdentityFile } from '@encrypted-stream/codec/node';
import { CliError, ExitCode, usageError } from './exit-codes';
import { KEYRING_ENV, loadKeyring } from './keyring-file';
import { anyKeyringOption, type KeyringOptions } from './keyring-options';
import type { CliKmsKeyring } from './kms-keyrings';

/** The three keyring types, as the messages and `rotate --to` name them. */
export type KeyringType = 'keyring' | 'recipient' | 'kms';

/** The flags that make each type, for messages. */
const FLAGS: Readonly<Record<KeyringType, string>> = {
  keyring: '--keyring',
  recipient: '--recipient/--identity',
  kms: '--kms-key-id/--kms-discovery-account',
};

/** Recipient key ids (FORMAT.md §6): a one-way fingerprint, recognisable by its prefix. */
const RECIPIENT_KEY_ID = /^es-x25519-/;
/** What a KMS key ARN key id looks like (the kms package checks it exactly). */
const KMS_KEY_ID = /^arn:[^:]+:kms:/;

/** A keyring that wraps: what it wraps under, for messages and checks. */
export interface Writer {
  readonly type: KeyringType;
  readonly keyring: Keyring;
  /** The key id new key blocks get: a local key id, a KMS key ARN, a recipient's `es-x25519-…`. */
  readonly keyId: string;
}

/**
 * The keyrings the options name, one of each type at most. Reading uses them
 * all ({@link KeyringSet}); writing uses one ({@link Keyrings.writer}).
 */
export class Keyrings {
  readonly local: LocalKeyring | undefined;
  readonly recipient: RecipientKeyring | undefined;
  readonly kms: CliKmsKeyring | undefined;
  /** Whether a recipient was given (--recipient, --recipients-file), not only identities. */
  readonly recipientGiven: boolean;

  private constructor(members: Pick<Keyrings, 'local' | 'recipient' | 'kms' | 'recipientGiven'>) {
    this.local = members.local;
    this.recipient = members.recipient;
    this.kms = members.kms;
    this.recipientGiven = members.recipientGiven;
  }

  /**
   * Checks the options (usage errors, exit 2: two recipients, a malformed
   * recipient, ARN or account id, KMS settings without a KMS key), then reads
   * the files they name (exit 3 when one is missing, malformed or readable by
   * others). No request is sent: KMS is first called by a wrap or unwrap.
   */
  static async load(options: KeyringOptions): Promise<Keyrings> {
    const hasKms = options.kmsKeyIds.length > 0 || options.kmsDiscoveryAccounts.length > 0;
    if (!hasKms && options.kmsEndpoint !== undefined) {
      throw usageError('--kms-endpoint needs --kms-key-id or --kms-discovery-account');
    }
    if (!hasKms && options.kmsProfile !== undefined) {
      throw usageError('--kms-profile needs --kms-key-id or --kms-discovery-account');
    }
    const given = [...options.recipients, ...(options.recipientsFile === undefined ? [] : ['file'])];
    if (given.length > 1) {
      throw usageError(
        'one recipient per object (FORMAT.md §6): give one --recipient or a --recipients-file; to let several parties read, share one identity',
      );
    }
    let recipientText = options.recipients[0];
    if (recipientText !== undefined) {
      try {
        parseRecipient(recipientText);
      } catch (error) {
        throw usageError(`--recipient: ${(error as Error).message}`);
      }
    }
    let kms: CliKmsKeyring | undefined;
    if (hasKms) {
      const { CliKmsKeyring } = require('./kms-keyrings') as typeof import('./kms-keyrings');
      kms = new CliKmsKeyring({
        keyArns: options.kmsKeyIds,
        discoveryAccounts: options.kmsDiscoveryAccounts,
        endpoint: options.kmsEndpoint,
        credentialsProfile: options.kmsProfile,
        profile: options.profile,
      });
    }
    // Every argument checked: now the files.
    const localPath = options.keyring ?? (anyKeyringOption(options) ? undefined : process.env[KEYRING_ENV]);
    const local = localPath === undefined ? undefined : await loadKeyring(localPath);
    if (options.recipientsFile !== undefined) recipientText = await readRecipientsFile(options.recipientsFile);
    const identities: string[] = [];
    for (const path of options.identities) identities.push(...(await loadIdentityFile(path)));
    const recipient =
      recipientText !== undefined || identities.length > 0
        ? new RecipientKeyring({
            ...(recipientText === undefined ? {} : { recipient: recipientText }),
            ...(identities.length > 0 ? { identities } : {}),
          })
        : undefined;
    return new Keyrings({ local, recipient, kms, recipientGiven: recipientText !== undefined });
  }

  /** The types given. */
  get types(): KeyringType[] {
    return (['keyring', 'recipient', 'kms'] as const).filter((type) => this.#member(type) !== undefined);
  }

  #member(type: KeyringType): Keyring | undefined {
    return type === 'keyring' ? this.local : type === 'recipient' ? this.recipient : this.kms;
  }

  /** Every keyring given, for reading: each key block goes to the one its key id names. */
  reader(): KeyringSet {
    if (this.types.length === 0) throw noKeyring();
    return new KeyringSet(this);
  }

  /**
   * The one keyring that wraps (put, encrypt): exactly one type may be given,
   * and it must be able to wrap (a discovery-only KMS keyring cannot).
   */
  async writer(command: string): Promise<Writer> {
    const types = this.types;
    if (types.length === 0) throw noKeyring();
    if (types.length > 1) {
      throw usageError(
        `${command} wraps each object's data key with one keyring, but ${types.map((t) => FLAGS[t]).join(' and ')} were given: keep one`,
      );
    }
    return this.#writerOf(types[0] as KeyringType, command);
  }

  /**
   * The keyring `rotate` re-wraps to: `--to TYPE`, else the recipient or
   * the first --kms-key-id when given (a keyring file given with them only
   * reads), else the keyring file's primary key, else the identity file's last identity.
   */
  async rotationTarget(to: string | undefined): Promise<Writer> {
    const types = this.types;
    if (types.length === 0) throw noKeyring();
    if (to !== undefined) {
      if (to !== 'keyring' && to !== 'recipient' && to !== 'kms') {
        throw usageError(`--to ${JSON.stringify(to)}: expected keyring, recipient or kms`);
      }
      if (!types.includes(to)) throw usageError(`--to ${to}: no ${FLAGS[to]} given`);
      return this.#writerOf(to, 'rotate');
    }
    const named = [
      ...(this.recipientGiven ? (['recipient'] as const) : []),
      ...(this.kms?.primaryKeyArn ? (['kms'] as const) : []),
    ];
    if (named.length > 1) {
      throw usageError(
        'rotate re-wraps to one keyring, but both a recipient and a --kms-key-id were given: say which with --to recipient or --to kms',
      );
    }
    const type = named[0] ?? (this.local ? 'keyring' : this.recipient ? 'recipient' : 'kms');
    return this.#writerOf(type, 'rotate');
  }

  async #writerOf(type: KeyringType, command: string): Promise<Writer> {
    if (type === 'keyring') {
      const local = this.local as LocalKeyring;
      return { type, keyring: local, keyId: local.primaryKeyId };
    }
    if (type === 'recipient') {
      const recipient = this.recipient as RecipientKeyring;
      return { type, keyring: recipient, keyId: await RecipientKeyring.keyIdOf(await recipient.recipient()) };
    }
    const kms = this.kms as CliKmsKeyring;
    if (!kms.primaryKeyArn) {
      throw usageError(`--kms-discovery-account only unwraps: ${command} needs the key to wrap with, --kms-key-id ARN`);
    }
    return { type, keyring: kms, keyId: kms.primaryKeyArn };
  }
}

/**
 * Several keyrings read as one: a key block goes to the keyring its key id
 * names, without trying others — the local keyring when it holds a key of
 * that id, else the recipient keyring for `es-x25519-…` ids and the KMS
 * keyring for KMS key ARNs. Wrapping is the writer's, when there is one.
 */
export class KeyringSet implements Keyring {
  readonly #keyrings: Keyrings;
  readonly #writer: Keyring | undefined;

  constructor(keyrings: Keyrings, writer?: Keyring) {
    this.#keyrings = keyrings;
    this.#writer = writer;
  }

  wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    if (!this.#writer) throw new TypeError('no keyring to wrap with');
    return this.#writer.wrap(dataKey, aad);
  }

  unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    return this.keyringFor(wrapped?.keyId).unwrap(wrapped, aad);
  }

  /** The keyring that unwraps key blocks of `keyId` (ES_UNKNOWN_KEY, exit 3, when none given can). */
  keyringFor(keyId: string): Keyring {
    const { local, recipient, kms } = this.#keyrings;
    if (local?.keyIds.includes(keyId)) return local;
    if (RECIPIENT_KEY_ID.test(keyId)) {
      if (recipient) return recipient;
      throw unknownKey(keyId, 'an X25519 recipient: pass the --identity file holding its identity');
    }
    if (KMS_KEY_ID.test(keyId)) {
      if (kms) return kms;
      throw unknownKey(keyId, 'an AWS KMS key: pass --kms-key-id ARN or --kms-discovery-account ID');
    }
    if (local) return local; // its own ES_UNKNOWN_KEY
    throw unknownKey(keyId, 'not a recipient or KMS key: it needs a local keyring file (--keyring)');
  }
}

const unknownKey = (keyId: string, what: string) => new KeyError(ErrorCode.UNKNOWN_KEY, `key id "${keyId}" is ${what}`);

const keyringError = (message: string) => new CliError(ExitCode.KEYRING, message);

/** Exit 3: nothing to wrap or unwrap with. */
function noKeyring(): CliError {
  return keyringError(
    `no keyring: pass --keyring FILE, --identity FILE, --recipient es-pub1…, --kms-key-id ARN or set ${KEYRING_ENV}`,
  );
}

/** The recipient of a recipients file: one `es-pub1…` line; empty lines and `#` comments ignored (exit 3 otherwise). */
async function readRecipientsFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw keyringError(`recipients file ${path} cannot be read`);
  }
  const lines = text
    .split('\n')
    .map((line, i) => [i + 1, line.replace(/\r$/, '').trim()] as const)
    .filter(([, line]) => line !== '' && !line.startsWith('#'));
  if (lines.length !== 1) {
    throw keyringError(
      `recipients file ${path} must hold exactly one recipient (es-pub1…), found ${lines.length}: one recipient per object`,
    );
  }
  const [number, line] = lines[0] as readonly [number, string];
  try {
    parseRecipient(line);
  } catch (error) {
    throw keyringError(`recipients file ${path}, line ${number}: ${(error as Error).message}`); // never the line itself
  }
  return line;
}

/** The identities of an identity file (exit 3 when missing, malformed or readable by others). */
async function loadIdentityFile(path: string): Promise<string[]> {
  try {
    return await readIdentityFile(path);
  } catch (error) {
    if (error instanceof RangeError) throw keyringError(error.message);
    throw keyringError(`identity file ${path} cannot be read`);
  }
}
