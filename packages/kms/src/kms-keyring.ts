import {
  DecryptCommand,
  type DecryptCommandOutput,
  DescribeKeyCommand,
  EncryptCommand,
  type EncryptCommandOutput,
  type KeyMetadata,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { ErrorCode, KeyError, type Keyring } from '@encrypted-stream/codec';
import { KEY_SIZE, type WrappedKey } from '@encrypted-stream/codec/low-level';
import { type KmsKeyArn, parseKmsKeyArn, requireKmsKeyArn } from './arn';
import { kmsEncryptionContext } from './encryption-context';
import { KmsErrorCode, KmsKeyringError, type KmsOperation, mapKmsError } from './errors';

/**
 * Longest wrapped key the detached framing (S3 metadata) carries: `w` is at
 * most 252 base64url characters (FORMAT.md §7).
 * @public
 */
export const MAX_KMS_WRAPPED_KEY_LENGTH = 189;

/**
 * Which key ARNs a keyring in discovery mode unwraps with: any key of these
 * accounts in this partition, and no other.
 * @public
 */
export interface KmsDiscoveryFilter {
  /** `aws`, `aws-cn`, `aws-us-gov`, … */
  readonly partition: string;
  /** 12-digit account ids; at least one. */
  readonly accountIds: readonly string[];
}

/**
 * Options of {@link KmsKeyring}.
 * @public
 */
export interface KmsKeyringOptions {
  /** Your KMS client (region, credentials, endpoint, retries: as you configure them). Every key must be in its region. */
  readonly client: KMSClient;
  /** Key ARN that wraps the data keys of new objects. Without one the keyring only unwraps. */
  readonly primaryKeyArn?: string;
  /** More key ARNs whose wrapped keys this keyring unwraps (former primary keys). */
  readonly keyArns?: readonly string[];
  /** Also unwrap with any key ARN of these accounts (discovery mode). ARNs outside it are never sent to KMS. */
  readonly discovery?: KmsDiscoveryFilter;
  /** Grant tokens passed with every Encrypt and Decrypt. */
  readonly grantTokens?: readonly string[];
}

/**
 * What {@link KmsKeyring.checkPrimaryKey} learnt from KMS.
 * @public
 */
export interface KmsKeyDescription {
  readonly arn: string;
  readonly keyState: string | undefined;
  readonly keySpec: string | undefined;
  readonly keyUsage: string | undefined;
  readonly origin: string | undefined;
  readonly multiRegion: boolean | undefined;
}

/**
 * A {@link Keyring} whose master keys are AWS KMS keys (symmetric encryption
 * keys, `SYMMETRIC_DEFAULT`). Each data key is wrapped with one KMS `Encrypt`
 * and unwrapped with one `Decrypt`, under an encryption context that binds it
 * to the stream header (FORMAT.md §6, KMS keyring). The key id stored with an
 * object is the key's ARN.
 *
 * - `primaryKeyArn` wraps new data keys; `keyArns` (and the primary) unwrap.
 * - `discovery: { partition, accountIds }` also unwraps with any key ARN of
 *   those accounts; any other ARN is `ES_UNKNOWN_KEY` without a KMS request.
 *
 * KMS failures are typed: the codec's `ES_UNKNOWN_KEY` / `ES_KEY_UNWRAP_FAILED`
 * for what the key block says, {@link KmsKeyringError} (`ES_KMS_*`) for what
 * KMS refused or could not do.
 * @public
 */
export class KmsKeyring implements Keyring {
  readonly #client: KMSClient;
  readonly #primary: KmsKeyArn | undefined;
  readonly #keys: ReadonlyMap<string, KmsKeyArn>;
  readonly #discovery: { partition: string; accountIds: ReadonlySet<string> } | undefined;
  readonly #grantTokens: string[] | undefined;
  #region: Promise<string | undefined> | undefined;

  constructor(options: KmsKeyringOptions) {
    if (!options || typeof options !== 'object') throw new TypeError('options must be an object');
    const { client } = options;
    if (!client || typeof (client as { send?: unknown }).send !== 'function') {
      throw new TypeError('options.client must be a KMSClient');
    }
    this.#client = client;
    this.#primary =
      options.primaryKeyArn === undefined ? undefined : requireKmsKeyArn(options.primaryKeyArn, 'primaryKeyArn');
    const keys = new Map<string, KmsKeyArn>();
    if (this.#primary) keys.set(this.#primary.arn, this.#primary);
    if (options.keyArns !== undefined && !Array.isArray(options.keyArns)) {
      throw new TypeError('keyArns must be an array of KMS key ARNs');
    }
    for (const arn of options.keyArns ?? []) keys.set(arn, requireKmsKeyArn(arn, 'keyArns[]'));
    this.#keys = keys;
    this.#discovery = options.discovery === undefined ? undefined : checkDiscovery(options.discovery);
    if (keys.size === 0 && !this.#discovery) {
      throw new RangeError('a KMS keyring needs a primaryKeyArn, keyArns or a discovery filter');
    }
    if (options.grantTokens !== undefined) {
      if (!Array.isArray(options.grantTokens) || options.grantTokens.some((t) => typeof t !== 'string' || !t)) {
        throw new TypeError('grantTokens must be an array of non-empty strings');
      }
      this.#grantTokens = [...options.grantTokens];
    }
  }

  /**
   * A keyring that only unwraps, with any key of `filter`'s accounts (the
   * discovery mode): for readers that must open objects written under keys
   * they are not told about in advance, from accounts they trust.
   */
  static discovery(
    client: KMSClient,
    filter: KmsDiscoveryFilter,
    options: { grantTokens?: readonly string[] } = {},
  ): KmsKeyring {
    return new KmsKeyring({ client, discovery: filter, ...options });
  }

  /** A new keyring with `arn` as its primary key; the current keys (and discovery filter) still unwrap. */
  withPrimaryKey(arn: string): KmsKeyring {
    return new KmsKeyring({
      client: this.#client,
      primaryKeyArn: arn,
      keyArns: [...this.#keys.keys()].filter((k) => k !== arn),
      ...(this.#discovery
        ? { discovery: { partition: this.#discovery.partition, accountIds: [...this.#discovery.accountIds] } }
        : {}),
      ...(this.#grantTokens ? { grantTokens: this.#grantTokens } : {}),
    });
  }

  /** The ARN that wraps new data keys (`undefined`: this keyring only unwraps). */
  get primaryKeyArn(): string | undefined {
    return this.#primary?.arn;
  }

  /** Every key ARN named in the options, the primary first (discovery accepts more). */
  get keyArns(): string[] {
    return [...this.#keys.keys()];
  }

  /** Whether {@link unwrap} would send `keyId` to KMS (it is a key ARN this keyring accepts). */
  accepts(keyId: string): boolean {
    return this.#accepted(keyId) !== undefined;
  }

  /** Wraps `dataKey` with one KMS Encrypt under the primary key, bound to `aad` (the stream header). */
  async wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const primary = this.#primary;
    if (!primary) throw new TypeError('this KMS keyring has no primaryKeyArn: it only unwraps');
    if (!(dataKey instanceof Uint8Array) || dataKey.length !== KEY_SIZE) {
      throw new RangeError(`dataKey must be ${KEY_SIZE} bytes`);
    }
    const context = await kmsEncryptionContext(aad);
    await this.#assertRegion(primary, 'Encrypt');
    let response: EncryptCommandOutput;
    try {
      response = await this.#encrypt(primary.arn, dataKey, context);
    } catch (error) {
      throw mapKmsError(error, 'Encrypt', primary.arn);
    }
    const blob = response.CiphertextBlob;
    if (response.KeyId !== primary.arn) {
      throw unexpected('Encrypt', primary.arn, `KMS answered for another key (${printableId(response.KeyId)})`);
    }
    if (!(blob instanceof Uint8Array) || blob.length === 0) {
      throw unexpected('Encrypt', primary.arn, 'KMS returned no ciphertext');
    }
    if (blob.length > MAX_KMS_WRAPPED_KEY_LENGTH) {
      throw new KmsKeyringError(
        KmsErrorCode.CIPHERTEXT_TOO_LARGE,
        `KMS key ${primary.arn} returned a ${blob.length}-byte ciphertext; S3 metadata holds wrapped keys of at most ${MAX_KMS_WRAPPED_KEY_LENGTH} bytes (FORMAT.md §7). Use a symmetric encryption key with key material in KMS.`,
        { operation: 'Encrypt', keyArn: primary.arn },
      );
    }
    return { keyId: primary.arn, wrappedKey: blob.slice() };
  }

  /** Recovers the data key with one KMS Decrypt naming the key ARN and the header's encryption context. */
  async unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    const keyId = wrapped?.keyId;
    const key = typeof keyId === 'string' ? this.#accepted(keyId) : undefined;
    if (!key) {
      throw new KeyError(ErrorCode.UNKNOWN_KEY, `the KMS keyring does not accept key id ${describeKeyId(keyId)}`);
    }
    const context = await kmsEncryptionContext(aad);
    if (!(wrapped.wrappedKey instanceof Uint8Array) || wrapped.wrappedKey.length === 0) {
      throw new KeyError(ErrorCode.KEY_UNWRAP_FAILED, 'the wrapped key is empty');
    }
    await this.#assertRegion(key, 'Decrypt');
    let response: DecryptCommandOutput;
    try {
      response = await this.#decrypt(key.arn, wrapped.wrappedKey, context);
    } catch (error) {
      throw mapKmsError(error, 'Decrypt', key.arn);
    }
    const plaintext = response.Plaintext;
    const ok = plaintext instanceof Uint8Array && plaintext.length === KEY_SIZE && response.KeyId === key.arn;
    if (!ok) {
      if (plaintext instanceof Uint8Array) plaintext.fill(0);
      throw new KeyError(ErrorCode.KEY_UNWRAP_FAILED, `KMS did not return a ${KEY_SIZE}-byte data key of ${key.arn}`);
    }
    const dataKey = plaintext.slice();
    plaintext.fill(0);
    return dataKey;
  }

  /**
   * Asks KMS (DescribeKey) whether the primary key can wrap data keys: enabled,
   * a symmetric encryption key. Optional, for a check at start-up; throws
   * {@link KmsKeyringError} (ES_KMS_KEY_DISABLED, ES_KMS_KEY_STATE,
   * ES_KMS_INVALID_KEY, …) or the codec's KeyError ES_UNKNOWN_KEY.
   */
  async checkPrimaryKey(): Promise<KmsKeyDescription> {
    const primary = this.#primary;
    if (!primary) throw new TypeError('this KMS keyring has no primaryKeyArn: it only unwraps');
    await this.#assertRegion(primary, 'DescribeKey');
    let metadata: KeyMetadata | undefined;
    try {
      const command = new DescribeKeyCommand({ KeyId: primary.arn, GrantTokens: this.#grantTokens });
      metadata = (await this.#client.send(command)).KeyMetadata;
    } catch (error) {
      throw mapKmsError(error, 'DescribeKey', primary.arn);
    }
    if (!metadata || metadata.Arn !== primary.arn) {
      throw unexpected('DescribeKey', primary.arn, 'KMS described another key');
    }
    const description: KmsKeyDescription = {
      arn: metadata.Arn,
      keyState: metadata.KeyState,
      keySpec: metadata.KeySpec,
      keyUsage: metadata.KeyUsage,
      origin: metadata.Origin,
      multiRegion: metadata.MultiRegion,
    };
    const failure = { operation: 'DescribeKey' as const, keyArn: primary.arn };
    if (metadata.KeyState === 'Disabled' || metadata.Enabled === false) {
      throw new KmsKeyringError(KmsErrorCode.KEY_DISABLED, `KMS key ${primary.arn} is disabled`, failure);
    }
    if (metadata.KeyState !== undefined && metadata.KeyState !== 'Enabled') {
      throw new KmsKeyringError(
        KmsErrorCode.KEY_STATE,
        `KMS key ${primary.arn} is ${printableId(metadata.KeyState)}, not Enabled`,
        failure,
      );
    }
    if (metadata.KeyUsage !== 'ENCRYPT_DECRYPT' || (metadata.KeySpec ?? 'SYMMETRIC_DEFAULT') !== 'SYMMETRIC_DEFAULT') {
      throw new KmsKeyringError(
        KmsErrorCode.INVALID_KEY,
        `KMS key ${primary.arn} is ${printableId(metadata.KeySpec)} for ${printableId(metadata.KeyUsage)}; a KMS keyring needs a SYMMETRIC_DEFAULT key for ENCRYPT_DECRYPT`,
        failure,
      );
    }
    return description;
  }

  #encrypt(keyArn: string, dataKey: Uint8Array, context: Record<string, string>) {
    return this.#client.send(
      new EncryptCommand({
        KeyId: keyArn,
        Plaintext: dataKey,
        EncryptionContext: context,
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        GrantTokens: this.#grantTokens,
      }),
    );
  }

  #decrypt(keyArn: string, blob: Uint8Array, context: Record<string, string>) {
    return this.#client.send(
      new DecryptCommand({
        KeyId: keyArn,
        CiphertextBlob: blob,
        EncryptionContext: context,
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        GrantTokens: this.#grantTokens,
      }),
    );
  }

  #accepted(keyId: string): KmsKeyArn | undefined {
    const listed = this.#keys.get(keyId);
    if (listed) return listed;
    const d = this.#discovery;
    if (!d) return undefined;
    const parsed = parseKmsKeyArn(keyId);
    return parsed && parsed.partition === d.partition && d.accountIds.has(parsed.accountId) ? parsed : undefined;
  }

  /** A key of another region than the client's is refused before any request (one client, one region). */
  async #assertRegion(key: KmsKeyArn, operation: KmsOperation): Promise<void> {
    this.#region ??= clientRegion(this.#client);
    const region = await this.#region;
    if (region === undefined || normalRegion(region) === key.region) return;
    const message = `KMS key ${key.arn} is in region ${key.region}; this keyring's KMS client is for ${printableId(region)}`;
    if (operation === 'Decrypt') throw new KeyError(ErrorCode.UNKNOWN_KEY, message);
    throw new KmsKeyringError(KmsErrorCode.FAILED, message, { operation, keyArn: key.arn });
  }
}

function checkDiscovery(filter: KmsDiscoveryFilter): { partition: string; accountIds: ReadonlySet<string> } {
  if (!filter || typeof filter !== 'object') throw new TypeError('discovery must be { partition, accountIds }');
  if (typeof filter.partition !== 'string' || !/^aws(-[a-z]+)*$/.test(filter.partition)) {
    throw new RangeError('discovery.partition must be an AWS partition such as "aws"');
  }
  if (!Array.isArray(filter.accountIds) || filter.accountIds.length === 0) {
    throw new RangeError('discovery.accountIds must list at least one account id');
  }
  for (const id of filter.accountIds) {
    if (typeof id !== 'string' || !/^\d{12}$/.test(id)) {
      throw new RangeError(`discovery.accountIds must be 12-digit account ids, got ${JSON.stringify(id)}`);
    }
  }
  return { partition: filter.partition, accountIds: new Set(filter.accountIds) };
}

async function clientRegion(client: KMSClient): Promise<string | undefined> {
  try {
    const region = (client as { config?: { region?: unknown } }).config?.region;
    const value = typeof region === 'function' ? await region() : region;
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined; // the client's own request fails with the SDK's message
  }
}

/** FIPS pseudo-regions (`fips-us-east-1`, `us-east-1-fips`) name the region of their keys. */
function normalRegion(region: string): string {
  return region.replace(/^fips-/, '').replace(/-fips$/, '');
}

function unexpected(operation: KmsOperation, keyArn: string, what: string): KmsKeyringError {
  return new KmsKeyringError(KmsErrorCode.FAILED, `KMS ${operation} with key ${keyArn}: ${what}`, {
    operation,
    keyArn,
  });
}

/** A key id from a key block (printable ASCII by the codec's parser) or a KMS answer, quoted and bounded. */
function describeKeyId(keyId: unknown): string {
  return typeof keyId === 'string' ? JSON.stringify(keyId.slice(0, 200)) : String(typeof keyId);
}

function printableId(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 200)) : String(value);
}
