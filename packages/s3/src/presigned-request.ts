import type { GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import type {
  BuildMiddleware,
  HttpRequest,
  MetadataBearer,
  MiddlewareStack,
  RequestPresigningArguments,
} from '@smithy/types';

/**
 * A function that presigns a command as a URL: `getSignedUrl` from
 * `@aws-sdk/s3-request-presigner`, passed in so this package does not depend
 * on the presigner (or on its version).
 * @public
 */
export interface PresignFunction {
  (client: S3Client, command: GetObjectCommand, options?: RequestPresigningArguments): Promise<string>;
  (client: S3Client, command: PutObjectCommand, options?: RequestPresigningArguments): Promise<string>;
  (client: S3Client, command: UploadPartCommand, options?: RequestPresigningArguments): Promise<string>;
}

/**
 * A presigned request: what a plain HTTP client (`fetch`, curl, a browser)
 * needs to make it without credentials.
 * @public
 */
export interface PresignedRequest {
  /** The HTTP method the signature is for. */
  readonly method: string;
  /** The presigned URL. */
  readonly url: string;
  /**
   * Headers to send with the request, exactly as given: every header the
   * signature covers (`X-Amz-SignedHeaders`), except `host`, which the HTTP
   * client sets from the URL. A missing or different value is a 403. Also
   * `content-type` when the command set one: S3 stores it with the object,
   * though presigners leave it unsigned.
   */
  readonly headers: Readonly<Record<string, string>>;
}

/** Options of {@link presignCommand}. */
export interface PresignCommandOptions {
  /** Seconds until the URL expires (the presigner's default, 900, when absent). */
  readonly expiresIn?: number;
  /** Header names (lower case) to keep as signed headers rather than hoist into the query string. */
  readonly unhoistable?: readonly string[];
  /**
   * Drop the SDK's body checksum headers: a presigned upload's body is not
   * known when it is signed, so a checksum computed then (of an empty body)
   * would only make the real upload fail.
   */
  readonly withoutBodyChecksum?: boolean;
}

const CAPTURE = 'encryptedStreamPresignCapture';

const isBodyChecksum = (name: string) => {
  const lower = name.toLowerCase();
  return lower.startsWith('x-amz-checksum-') || lower === 'x-amz-sdk-checksum-algorithm' || lower === 'content-md5';
};

/** Throws TypeError unless `presign` is a function. */
export function assertPresignFunction(presign: unknown): asserts presign is PresignFunction {
  if (typeof presign !== 'function') {
    throw new TypeError('presign must be a function such as getSignedUrl from @aws-sdk/s3-request-presigner');
  }
}

/**
 * Presigns `command` with `sign` (which calls the caller's presign function
 * with it), and reports the headers the signature covers with the values it
 * covers: a middleware on the command's own stack (the presigner runs the
 * client's stack and the command's, and stops before signing) holds on to
 * the request as the build step finished it.
 */
export async function presignCommand(
  command: GetObjectCommand | PutObjectCommand | UploadPartCommand,
  sign: (options: RequestPresigningArguments) => Promise<string>,
  options: PresignCommandOptions = {},
): Promise<PresignedRequest> {
  let request: HttpRequest | undefined;
  const capture: BuildMiddleware<object, MetadataBearer> = (next) => async (args) => {
    request = args.request as HttpRequest;
    if (options.withoutBodyChecksum) {
      for (const name of Object.keys(request.headers)) if (isBodyChecksum(name)) delete request.headers[name];
    }
    return next(args);
  };
  // The three command types share this stack shape; their unions do not unify for the type checker.
  (command.middlewareStack as unknown as MiddlewareStack<object, MetadataBearer>).add(capture, {
    step: 'build',
    priority: 'low',
    name: CAPTURE,
    override: true,
  });
  const url = await sign({
    ...(options.expiresIn === undefined ? {} : { expiresIn: options.expiresIn }),
    ...(options.unhoistable ? { unhoistableHeaders: new Set(options.unhoistable) } : {}),
  });
  if (!request) throw new TypeError('presign did not run the command through the client (use getSignedUrl)');
  const sent = request;
  const headerValue = (name: string) => {
    for (const [k, v] of Object.entries(sent.headers)) if (k.toLowerCase() === name) return v;
    return undefined;
  };
  const headers: Record<string, string> = {};
  const signed = new URL(url).searchParams.get('X-Amz-SignedHeaders');
  for (const name of signed ? signed.split(';') : []) {
    if (name === 'host') continue;
    const value = headerValue(name);
    if (value === undefined)
      throw new TypeError(`the presigned URL signs a header "${name}" the request does not have`);
    headers[name] = value;
  }
  const contentType = headerValue('content-type');
  if (contentType !== undefined && (command.input as { ContentType?: string }).ContentType !== undefined) {
    headers['content-type'] = contentType;
  }
  return { method: sent.method, url, headers };
}
