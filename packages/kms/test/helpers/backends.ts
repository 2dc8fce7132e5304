/**
 * The KMS services the suites run against, behind one interface:
 *
 * - the KMS test double (`@encrypted-stream/test-support/kms-test-double`), always: policies, throttling,
 *   internal errors and oversized ciphertexts on demand;
 * - LocalStack's KMS, when `KMS_ENDPOINT` is set — by hand (`docker run -p
 *   4566:4566 -e SERVICES=kms localstack/localstack:3`, then
 *   `KMS_ENDPOINT=http://127.0.0.1:4566`), or by this package's jest
 *   globalSetup, which starts LocalStack with testcontainers when a Docker
 *   engine answers. LocalStack's community KMS enforces no IAM policy and never
 *   throttles, so those cases run against the test double only.
 */
import {
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  KMSClient,
  type KMSClientConfig,
} from '@aws-sdk/client-kms';
import { KmsTestDouble, type KmsTestDoubleOperation } from '@encrypted-stream/test-support/kms-test-double';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';

/** What a backend can be asked to do besides Encrypt/Decrypt/DescribeKey. */
export interface KmsBackendFeatures {
  /** deny()/allow(): key policies that refuse the caller. */
  readonly policies: boolean;
  /** throttle(): ThrottlingException on demand. */
  readonly throttling: boolean;
  /** failInternally(): 500 KMSInternalException on demand. */
  readonly internalErrors: boolean;
  /** createKey({ extraCiphertextBytes }): keys whose ciphertexts exceed S3 metadata. */
  readonly largeCiphertexts: boolean;
}

/** One running KMS for a suite. */
export interface KmsBackend {
  readonly name: string;
  readonly region: string;
  /** Account of the keys createKey() makes by default. */
  readonly account: string;
  /** A second account (for discovery filters). */
  readonly otherAccount: string;
  /** A KMSClient for this KMS, retrying `maxAttempts` times (default 3) with 5 ms between attempts. */
  client(options?: { account?: string; maxAttempts?: number }): KMSClient;
  /** A new symmetric encryption key; its ARN. */
  createKey(options?: { account?: string; extraCiphertextBytes?: number }): Promise<string>;
  disableKey(arn: string): Promise<void>;
  enableKey(arn: string): Promise<void>;
  deny(arn: string, operations?: readonly KmsTestDoubleOperation[]): void;
  allow(arn: string): void;
  throttle(requests: number): void;
  failInternally(requests: number): void;
  close(): Promise<void>;
}

/** A backend to start, with what it supports known before it starts (tests are declared synchronously). */
export interface KmsBackendSpec {
  /** Short name for bucket labels. */
  readonly id: string;
  readonly name: string;
  readonly features: KmsBackendFeatures;
  start(): Promise<KmsBackend>;
}

function quietSdk(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/** The KMS test double. */
export const testDoubleBackend: KmsBackendSpec = {
  id: 'double',
  name: 'the KMS test double',
  features: { policies: true, throttling: true, internalErrors: true, largeCiphertexts: true },
  async start(): Promise<KmsBackend> {
    const double = await KmsTestDouble.start();
    return {
      name: 'the KMS test double',
      region: double.region,
      account: '111122223333',
      otherAccount: '444455556666',
      client: (options = {}) => double.client({ maxAttempts: options.maxAttempts ?? 3 }),
      createKey: async (options = {}) => double.createKey(options),
      disableKey: async (arn) => double.disableKey(arn),
      enableKey: async (arn) => double.enableKey(arn),
      deny: (arn, operations) => double.deny(arn, operations),
      allow: (arn) => double.allow(arn),
      throttle: (requests) => double.throttle(requests),
      failInternally: (requests) => double.failInternally(requests),
      close: () => double.close(),
    };
  },
};

/** Where LocalStack's KMS is: `KMS_ENDPOINT` (and `KMS_REGION`, default us-east-1), or undefined. */
export function localStackEndpoint(): { endpoint: string; region: string } | undefined {
  const endpoint = process.env.KMS_ENDPOINT;
  return endpoint ? { endpoint, region: process.env.KMS_REGION || 'us-east-1' } : undefined;
}

/** Why the LocalStack suite does not run here (set by the globalSetup), for the skip message. */
export function localStackSkipReason(): string {
  return process.env.KMS_LOCALSTACK_SKIPPED || 'KMS_ENDPOINT is not set';
}

/**
 * LocalStack's KMS at `KMS_ENDPOINT`. LocalStack takes a 12-digit access key
 * id as the caller's account id, and `test` as account 000000000000.
 */
export const localStackBackend: KmsBackendSpec = {
  id: 'localstack',
  name: "LocalStack's KMS",
  features: { policies: false, throttling: false, internalErrors: false, largeCiphertexts: false },
  async start(): Promise<KmsBackend> {
    const where = localStackEndpoint();
    if (!where) throw new Error('KMS_ENDPOINT is not set');
    quietSdk();
    const clientFor = (account: string, maxAttempts = 3, extra: Partial<KMSClientConfig> = {}) =>
      new KMSClient({
        region: where.region,
        endpoint: where.endpoint,
        credentials: { accessKeyId: account === '000000000000' ? 'test' : account, secretAccessKey: 'test' },
        retryStrategy: new ConfiguredRetryStrategy(maxAttempts, 5),
        ...extra,
      });
    const admins = new Map<string, KMSClient>();
    const admin = (account: string) => {
      const known = admins.get(account);
      if (known) return known;
      const c = clientFor(account);
      admins.set(account, c);
      return c;
    };
    const unsupported = (what: string) => () => {
      throw new Error(`LocalStack's KMS cannot ${what}`);
    };
    const account = '000000000000';
    return {
      name: "LocalStack's KMS",
      region: where.region,
      account,
      otherAccount: '444455556666',
      client: (options = {}) => clientFor(options.account ?? account, options.maxAttempts),
      createKey: async (options = {}) => {
        if (options.extraCiphertextBytes) throw new Error("LocalStack's KMS cannot make larger ciphertexts");
        const out = await admin(options.account ?? account).send(
          new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', Description: 'kms tests' }),
        );
        const arn = out.KeyMetadata?.Arn;
        if (!arn) throw new Error('LocalStack returned no key ARN');
        return arn;
      },
      disableKey: async (arn) => {
        await admin(arnAccount(arn)).send(new DisableKeyCommand({ KeyId: arn }));
      },
      enableKey: async (arn) => {
        await admin(arnAccount(arn)).send(new EnableKeyCommand({ KeyId: arn }));
      },
      deny: unsupported('enforce key policies'),
      allow: unsupported('enforce key policies'),
      throttle: unsupported('throttle'),
      failInternally: unsupported('fail on demand'),
      close: async () => {
        for (const c of admins.values()) c.destroy();
      },
    };
  },
};

function arnAccount(arn: string): string {
  return arn.split(':')[4] ?? '';
}

/** Every HTTP request (each attempt) a KMSClient sends, by operation. */
export interface KmsRequestLog {
  readonly operations: string[];
  count(operation?: string): number;
  reset(): void;
}

let logs = 0;

/** Records the X-Amz-Target operation of every attempt `client` sends (after the retry middleware). */
export function logKmsRequests(client: KMSClient): KmsRequestLog {
  const operations: string[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      const target = Object.entries(headers).find(([k]) => k.toLowerCase() === 'x-amz-target')?.[1] ?? '';
      operations.push(target.replace(/^TrentService\./, ''));
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: `kmsTestRequestLog${++logs}` },
  );
  return {
    operations,
    count: (operation) => (operation ? operations.filter((o) => o === operation).length : operations.length),
    reset: () => {
      operations.length = 0;
    },
  };
}
