/**
 * A TEST DOUBLE of AWS KMS, written for these tests. It is not AWS KMS, not
 * LocalStack, and not a KMS for anything but tests.
 *
 * It speaks the wire protocol the real `KMSClient` uses (AWS JSON 1.1: `POST /`,
 * `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target: TrentService.<Op>`,
 * errors as `{ "__type", "message" }` with status 400/500) for `Encrypt`,
 * `Decrypt` and `DescribeKey`, and checks what a real KMS checks that matters
 * to a keyring:
 *
 * - every request's SigV4 signature, recomputed with `@smithy/signature-v4`
 *   from the known test credentials over the request as received (method,
 *   path, signed headers, SHA-256 of the body as received), compared in
 *   constant time; an unknown access key, a wrong signature, a body changed
 *   after signing or a stale date are refused as AWS refuses them;
 * - real authenticated encryption: AES-256-GCM under the key's own random
 *   material, with the request's EncryptionContext (canonically encoded) and
 *   the blob's header as AAD, so a wrong context, a tampered blob or another
 *   key's blob fails like in KMS (`InvalidCiphertextException`,
 *   `IncorrectKeyException` when `KeyId` names another key than the blob's);
 * - key states (`DisabledException`, `KMSInvalidStateException` when pending
 *   deletion), key specs (`InvalidKeyUsageException` for a non-symmetric key),
 *   policies that deny an operation (`AccessDeniedException`), throttling
 *   (`ThrottlingException`) and internal errors (500 `KMSInternalException`)
 *   on demand.
 *
 * Ciphertext blobs are its own format (AWS's is not public): by default they
 * are as long as AWS KMS's for the same plaintext (plaintext + 152 bytes: 184
 * for a 32-byte data key), so metadata sizes in tests are realistic;
 * `extraCiphertextBytes` makes longer ones (as a key type with larger
 * ciphertexts would). Every request is recorded in `requests`.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { SignatureV4 } from '@smithy/signature-v4';

/** The credentials the double accepts (and its clients sign with). Test values, valid nowhere else. */
export const TEST_DOUBLE_CREDENTIALS = Object.freeze({
  accessKeyId: 'AKIAKMSTESTDOUBLE001',
  secretAccessKey: 'kms-test-double/secret/not-an-aws-secret',
});
/** The account of the test double's caller and, by default, of its keys. */
export const TEST_DOUBLE_ACCOUNT = '111122223333';
/** The principal named in AccessDeniedException messages. */
const PRINCIPAL = `arn:aws:iam::${TEST_DOUBLE_ACCOUNT}:user/kms-test-double-caller`;

/** Operations the double implements. */
export type KmsTestDoubleOperation = 'Encrypt' | 'Decrypt' | 'DescribeKey';

/** One request as the double received and answered it. */
export interface RecordedKmsCall {
  /** The X-Amz-Target operation, e.g. `Decrypt` (empty when absent). */
  readonly operation: string;
  /** The KeyId the request named, if any. */
  readonly keyId: string | undefined;
  /** The EncryptionContext the request carried, if any. */
  readonly encryptionContext: Readonly<Record<string, string>> | undefined;
  /** HTTP status of the answer. */
  status: number;
  /** `__type` of an error answer. */
  errorType?: string;
}

type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

interface DoubleKey {
  readonly arn: string;
  readonly keyId: string;
  readonly rawId: Buffer;
  readonly account: string;
  readonly material: Buffer;
  readonly keySpec: string;
  readonly extraCiphertextBytes: number;
  state: KeyState;
  readonly denied: Set<KmsTestDoubleOperation>;
  readonly created: number;
}

/** Options of {@link KmsTestDouble.createKey}. */
export interface CreateKeyOptions {
  /** Account of the key (default {@link TEST_DOUBLE_ACCOUNT}); the double lets its caller use keys of any account. */
  readonly account?: string;
  /** `SYMMETRIC_DEFAULT` (default), or e.g. `RSA_2048` / `HMAC_256` for a key that cannot Encrypt with SYMMETRIC_DEFAULT. */
  readonly keySpec?: string;
  /** Bytes added to every ciphertext blob of this key (beyond AWS's 152-byte overhead). */
  readonly extraCiphertextBytes?: number;
}

class KmsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const BLOB_VERSION = 0x01;
/** What AWS KMS adds to a plaintext (184-byte blobs for 32 bytes); the double pads its own format to match. */
const AWS_CIPHERTEXT_OVERHEAD = 152;
/** The double's own blob: version, key id, pad length, pad, IV, ciphertext, tag. */
const BLOB_FIXED = 1 + 16 + 2 + 12 + 16;
const MAX_BODY = 64 * 1024;
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** A `@smithy/signature-v4` hash constructor over node:crypto (HMAC when given a secret). */
export class NodeSha256 {
  readonly #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** EncryptionContext as AAD: entries sorted by name, each `u32(len) name u32(len) value` (UTF-8). */
function encodeContext(context: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  for (const name of Object.keys(context).sort()) {
    for (const text of [name, context[name] as string]) {
      const bytes = Buffer.from(text, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      parts.push(length, bytes);
    }
  }
  return Buffer.concat(parts);
}

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** The AWS KMS test double (see the file comment). Start with {@link KmsTestDouble.start}. */
export class KmsTestDouble {
  /** Every request received, in order. */
  readonly requests: RecordedKmsCall[] = [];
  readonly region: string;
  readonly #server: Server;
  readonly #keys = new Map<string, DoubleKey>();
  readonly #signer: SignatureV4;
  #throttle = 0;
  #internalErrors = 0;

  private constructor(server: Server, region: string) {
    this.#server = server;
    this.region = region;
    this.#signer = new SignatureV4({
      credentials: { ...TEST_DOUBLE_CREDENTIALS },
      region,
      service: 'kms',
      sha256: NodeSha256,
    });
  }

  /** Starts the double on 127.0.0.1 (a free port). */
  static async start(options: { region?: string } = {}): Promise<KmsTestDouble> {
    const server = createServer();
    const double = new KmsTestDouble(server, options.region ?? 'us-east-1');
    server.on('request', (req, res) => {
      double.#handle(req, res).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return double;
  }

  /** `http://127.0.0.1:<port>`. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /**
   * A real `KMSClient` for the double: the test credentials, its region, and
   * the SDK's standard retries with 5 ms between attempts (`maxAttempts`, default 3).
   */
  client(overrides: Partial<KMSClientConfig> & { maxAttempts?: number } = {}): KMSClient {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const { maxAttempts = 3, ...rest } = overrides;
    return new KMSClient({
      region: this.region,
      endpoint: this.endpoint,
      credentials: { ...TEST_DOUBLE_CREDENTIALS },
      retryStrategy: new ConfiguredRetryStrategy(maxAttempts, 5),
      ...rest,
    });
  }

  /** Creates a key with fresh random material; returns its ARN. */
  createKey(options: CreateKeyOptions = {}): string {
    const account = options.account ?? TEST_DOUBLE_ACCOUNT;
    const keyId = randomUUID();
    const arn = `arn:aws:kms:${this.region}:${account}:key/${keyId}`;
    this.#keys.set(arn, {
      arn,
      keyId,
      rawId: uuidBytes(keyId),
      account,
      material: randomBytes(32),
      keySpec: options.keySpec ?? 'SYMMETRIC_DEFAULT',
      extraCiphertextBytes: options.extraCiphertextBytes ?? 0,
      state: 'Enabled',
      denied: new Set(),
      created: Math.floor(Date.now() / 1000),
    });
    return arn;
  }

  /** DisableKey. */
  disableKey(arn: string): void {
    this.#key(arn).state = 'Disabled';
  }

  /** EnableKey. */
  enableKey(arn: string): void {
    this.#key(arn).state = 'Enabled';
  }

  /** ScheduleKeyDeletion: the key then refuses everything with KMSInvalidStateException. */
  scheduleKeyDeletion(arn: string): void {
    this.#key(arn).state = 'PendingDeletion';
  }

  /** A key policy that denies the caller `operations` (all three by default) on `arn`. */
  deny(arn: string, operations: readonly KmsTestDoubleOperation[] = ['Encrypt', 'Decrypt', 'DescribeKey']): void {
    for (const op of operations) this.#key(arn).denied.add(op);
  }

  /** Lifts every deny of `arn`. */
  allow(arn: string): void {
    this.#key(arn).denied.clear();
  }

  /** The next `requests` authenticated requests get `ThrottlingException` (Infinity: until {@link stopThrottling}). */
  throttle(requests: number): void {
    this.#throttle = requests;
  }

  stopThrottling(): void {
    this.#throttle = 0;
  }

  /** The next `requests` authenticated requests get a 500 `KMSInternalException`. */
  failInternally(requests: number): void {
    this.#internalErrors = requests;
  }

  /** Requests of one operation (every attempt counts). */
  calls(operation?: KmsTestDoubleOperation): RecordedKmsCall[] {
    return operation ? this.requests.filter((r) => r.operation === operation) : [...this.requests];
  }

  /** Forgets the recorded requests. */
  resetRequests(): void {
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #key(arn: string): DoubleKey {
    const key = this.#keys.get(arn);
    if (!key) throw new Error(`the test double has no key ${arn}`);
    return key;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) return this.#reply(res, undefined, 413, { __type: 'RequestEntityTooLarge', message: '' });
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      parsed = undefined;
    }
    const record: RecordedKmsCall = {
      operation,
      keyId: typeof parsed?.KeyId === 'string' ? parsed.KeyId : undefined,
      encryptionContext: isStringMap(parsed?.EncryptionContext) ? { ...parsed.EncryptionContext } : undefined,
      status: 0,
    };
    this.requests.push(record);
    try {
      await this.#authenticate(req, body);
      if (this.#throttle > 0) {
        this.#throttle--;
        throw new KmsFault('ThrottlingException', 'Rate exceeded');
      }
      if (this.#internalErrors > 0) {
        this.#internalErrors--;
        throw new KmsFault('KMSInternalException', 'An internal error occurred (injected by the test double).', 500);
      }
      if (req.method !== 'POST' || (req.url ?? '/') !== '/') throw new KmsFault('UnknownOperationException', '');
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) {
        throw new KmsFault('SerializationException', 'Content-Type must be application/x-amz-json-1.1');
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new KmsFault('SerializationException', 'the body is not a JSON object');
      }
      let answer: Record<string, unknown>;
      if (operation === 'Encrypt') answer = this.#encrypt(parsed);
      else if (operation === 'Decrypt') answer = this.#decrypt(parsed);
      else if (operation === 'DescribeKey') answer = this.#describeKey(parsed);
      else throw new KmsFault('UnknownOperationException', '');
      this.#reply(res, record, 200, answer);
    } catch (error) {
      if (!(error instanceof KmsFault)) throw error;
      record.errorType = error.type;
      this.#reply(res, record, error.status, { __type: error.type, message: error.message });
    }
  }

  #reply(res: ServerResponse, record: RecordedKmsCall | undefined, status: number, body: unknown): void {
    if (record) record.status = status;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(text);
  }

  /** SigV4, as KMS checks it: credential scope, date, and the signature over the request as received. */
  async #authenticate(req: IncomingMessage, body: Buffer): Promise<void> {
    const authorization = String(req.headers.authorization ?? '');
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
        authorization,
      );
    if (!m) {
      throw new KmsFault('MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    const [, accessKeyId, day, region, service, signedHeaderList, signature] = m as unknown as string[];
    if (accessKeyId !== TEST_DOUBLE_CREDENTIALS.accessKeyId) {
      throw new KmsFault('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!date || amzDate.slice(0, 8) !== day) throw new KmsFault('InvalidSignatureException', 'Bad X-Amz-Date');
    const signingDate = new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!));
    if (Math.abs(Date.now() - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
      throw new KmsFault('InvalidSignatureException', 'Signature expired');
    }
    if (service !== 'kms' || region !== this.region) {
      throw new KmsFault('InvalidSignatureException', `Credential should be scoped to a valid region and service kms`);
    }
    // The request as received, with exactly the headers the client says it signed.
    const headers: Record<string, string> = {};
    for (const name of (signedHeaderList as string).split(';')) {
      const value = req.headers[name];
      if (value === undefined) throw new KmsFault('InvalidSignatureException', `signed header ${name} is missing`);
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const bodyHash = createHash('sha256').update(body).digest('hex');
    // The signer trusts x-amz-content-sha256; KMS hashes what arrived. So do we.
    if ('x-amz-content-sha256' in headers) headers['x-amz-content-sha256'] = bodyHash;
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const host = headers.host ?? '';
    const signed = await this.#signer.sign(
      {
        method: req.method ?? 'POST',
        protocol: 'http:',
        hostname: host.replace(/:\d+$/, ''),
        path: url.pathname,
        query,
        headers,
        body: body.toString('utf8'),
      },
      { signingDate, signableHeaders: new Set(Object.keys(headers)) },
    );
    const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
    const signedList = /SignedHeaders=([^,]+),/.exec(String(signed.headers.authorization ?? ''))?.[1];
    const ok =
      expected.length === 64 &&
      signedList === signedHeaderList &&
      timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(signature as string, 'hex'));
    if (!ok) {
      throw new KmsFault(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided.',
      );
    }
  }

  /** KeyId as KMS takes it here: a key ARN, or a bare key id of the caller's account. */
  #resolve(keyId: unknown): DoubleKey {
    if (typeof keyId !== 'string' || keyId === '') throw new KmsFault('ValidationException', 'KeyId is required');
    const byArn = this.#keys.get(keyId);
    if (byArn) return byArn;
    for (const key of this.#keys.values()) {
      if (key.keyId === keyId && key.account === TEST_DOUBLE_ACCOUNT) return key;
    }
    if (keyId.startsWith('arn:') && !keyId.startsWith(`arn:aws:kms:${this.region}:`)) {
      throw new KmsFault('NotFoundException', `Invalid arn ${this.region}`);
    }
    throw new KmsFault('NotFoundException', `Key '${keyId}' does not exist`);
  }

  /** Policy, then state: what KMS checks before any cryptography. */
  #authorize(key: DoubleKey, operation: KmsTestDoubleOperation): void {
    if (key.denied.has(operation)) {
      throw new KmsFault(
        'AccessDeniedException',
        `User: ${PRINCIPAL} is not authorized to perform: kms:${operation} on resource: ${key.arn} because no resource-based policy allows the kms:${operation} action`,
      );
    }
    if (operation === 'DescribeKey') return;
    if (key.state === 'Disabled') throw new KmsFault('DisabledException', `${key.arn} is disabled.`);
    if (key.state === 'PendingDeletion') {
      throw new KmsFault('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    }
    if (key.keySpec !== 'SYMMETRIC_DEFAULT') {
      throw new KmsFault(
        'InvalidKeyUsageException',
        `You cannot use the SYMMETRIC_DEFAULT algorithm with a ${key.keySpec} key (${key.arn}).`,
      );
    }
  }

  #encrypt(input: Record<string, unknown>): Record<string, unknown> {
    const key = this.#resolve(input.KeyId);
    const plaintext = base64Field(input.Plaintext, 'Plaintext');
    if (plaintext.length < 1 || plaintext.length > 4096) {
      throw new KmsFault('ValidationException', 'Plaintext must be 1 to 4096 bytes');
    }
    const context = contextField(input.EncryptionContext);
    algorithmField(input.EncryptionAlgorithm);
    this.#authorize(key, 'Encrypt');
    const padLength = AWS_CIPHERTEXT_OVERHEAD - BLOB_FIXED + key.extraCiphertextBytes;
    const pad = randomBytes(padLength);
    const padLengthBytes = Buffer.alloc(2);
    padLengthBytes.writeUInt16BE(padLength);
    const head = Buffer.concat([Buffer.of(BLOB_VERSION), key.rawId, padLengthBytes, pad]);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.material, iv);
    cipher.setAAD(Buffer.concat([head, encodeContext(context)]));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const blob = Buffer.concat([head, iv, ciphertext, cipher.getAuthTag()]);
    plaintext.fill(0);
    return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  }

  #decrypt(input: Record<string, unknown>): Record<string, unknown> {
    const blob = base64Field(input.CiphertextBlob, 'CiphertextBlob');
    const context = contextField(input.EncryptionContext);
    algorithmField(input.EncryptionAlgorithm);
    const named = input.KeyId === undefined ? undefined : this.#resolve(input.KeyId);
    const invalid = () => new KmsFault('InvalidCiphertextException', '');
    if (blob.length < BLOB_FIXED || blob[0] !== BLOB_VERSION) throw invalid();
    const rawId = blob.subarray(1, 17);
    const padLength = blob.readUInt16BE(17);
    const headEnd = 19 + padLength;
    if (blob.length < headEnd + 12 + 16) throw invalid();
    const owner = [...this.#keys.values()].find((k) => k.rawId.equals(rawId));
    const key = named ?? owner;
    if (!key) throw invalid();
    this.#authorize(key, 'Decrypt');
    if (named && named !== owner) {
      throw new KmsFault(
        'IncorrectKeyException',
        'The key ID in the request does not identify a KMS key that can perform this operation.',
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', key.material, blob.subarray(headEnd, headEnd + 12));
    decipher.setAAD(Buffer.concat([blob.subarray(0, headEnd), encodeContext(context)]));
    decipher.setAuthTag(blob.subarray(blob.length - 16));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(blob.subarray(headEnd + 12, blob.length - 16)), decipher.final()]);
    } catch {
      throw invalid();
    }
    const answer = {
      KeyId: key.arn,
      Plaintext: plaintext.toString('base64'),
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
    plaintext.fill(0);
    return answer;
  }

  #describeKey(input: Record<string, unknown>): Record<string, unknown> {
    const key = this.#resolve(input.KeyId);
    this.#authorize(key, 'DescribeKey');
    const symmetric = key.keySpec === 'SYMMETRIC_DEFAULT';
    return {
      KeyMetadata: {
        AWSAccountId: key.account,
        KeyId: key.keyId,
        Arn: key.arn,
        CreationDate: key.created,
        Enabled: key.state === 'Enabled',
        Description: 'a key of the KMS test double',
        KeyUsage: key.keySpec.startsWith('HMAC') ? 'GENERATE_VERIFY_MAC' : 'ENCRYPT_DECRYPT',
        KeyState: key.state,
        Origin: 'AWS_KMS',
        KeyManager: 'CUSTOMER',
        CustomerMasterKeySpec: key.keySpec,
        KeySpec: key.keySpec,
        EncryptionAlgorithms: symmetric ? ['SYMMETRIC_DEFAULT'] : ['RSAES_OAEP_SHA_256'],
        MultiRegion: false,
      },
    };
  }
}

function isStringMap(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}

function base64Field(value: unknown, name: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new KmsFault('SerializationException', `${name} must be base64`);
  }
  return Buffer.from(value, 'base64');
}

function contextField(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isStringMap(value))
    throw new KmsFault('SerializationException', 'EncryptionContext must map strings to strings');
  return value;
}

function algorithmField(value: unknown): void {
  if (value !== undefined && value !== 'SYMMETRIC_DEFAULT' && value !== 'RSAES_OAEP_SHA_256') {
    throw new KmsFault('ValidationException', `EncryptionAlgorithm ${String(value)} is not valid`);
  }
}
