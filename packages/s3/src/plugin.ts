import type { S3Client } from '@aws-sdk/client-s3';
import type { HandlerExecutionContext, InitializeMiddleware, MiddlewareStack } from '@smithy/types';
import { handleCopyObject } from './copy-object';
import { handleGetObject } from './get-object';
import type { CommandHandler, PluginRuntime } from './handler';
import { handleHeadObject } from './head-object';
import { commandOptions } from './markers';
import {
  handleAbortMultipartUpload,
  handleCompleteMultipartUpload,
  handleCreateMultipartUpload,
  handleUploadPart,
  rejectSelectObjectContent,
  rejectUploadPartCopy,
} from './multipart';
import { type EncryptionOptions, resolveOptions } from './options';
import { presignAware } from './presign-passthrough';
import { handlePutObject } from './put-object';
import { StreamCache } from './stream-cache';
import { UploadRegistry } from './upload-registry';
import { adoptListedParts, fromResumeToken, toResumeToken } from './upload-state';

const HANDLERS: Readonly<Record<string, CommandHandler>> = {
  PutObjectCommand: handlePutObject,
  GetObjectCommand: handleGetObject,
  HeadObjectCommand: handleHeadObject,
  CopyObjectCommand: handleCopyObject,
  CreateMultipartUploadCommand: handleCreateMultipartUpload,
  UploadPartCommand: handleUploadPart,
  CompleteMultipartUploadCommand: handleCompleteMultipartUpload,
  AbortMultipartUploadCommand: handleAbortMultipartUpload,
  UploadPartCopyCommand: rejectUploadPartCopy,
  SelectObjectContentCommand: rejectSelectObjectContent,
};

/**
 * The SDK's Pluggable as the caller's own `@aws-sdk/client-s3` declares it.
 * Taken from the client rather than from `@smithy/types`, so that the plugin's
 * type is the client's whatever SDK version (and `@smithy/types` copy) the
 * application has installed.
 */
type S3Pluggable = Parameters<S3Client['middlewareStack']['use']>[0];

/** Options for the middleware's place in the stack (SDK convention). */
export const encryptionMiddlewareOptions: {
  readonly step: 'initialize';
  readonly name: string;
  readonly tags: string[];
  readonly priority: 'high';
  readonly override: boolean;
} = {
  step: 'initialize',
  name: 'encryptedStreamMiddleware',
  tags: ['ENCRYPTION', 'CLIENT_SIDE_ENCRYPTION'],
  priority: 'high',
  override: true,
};

/**
 * The encryption plugin: a Pluggable for `client.middlewareStack.use()`, plus
 * access to the state of multipart uploads made through it.
 * @public
 */
export interface EncryptionPlugin extends S3Pluggable {
  /**
   * A serialisable token from which another process can continue an upload
   * begun through this plugin. An upload created without a part size (as
   * lib-storage creates them) has none before its part 1 set the part size
   * (`ES_INVALID_UPLOAD`); the resumed upload follows the low-level protocol
   * (mark the final part).
   */
  resumeToken(uploadId: string, bucket: string, key: string): string;
  /**
   * Adopts an upload from its resume token, so UploadPart/Complete for it work
   * through this plugin. An edited token fails with `ES_INVALID_RESUME_TOKEN`;
   * so does one for another bucket or key than `destination`'s, when given.
   */
  resume(
    token: string,
    destination?: { bucket?: string; key?: string },
  ): Promise<{ bucket: string; key: string; uploadId: string; partSize: number }>;
}

/**
 * Client-side encryption for an existing S3 client, in one line:
 *
 * ```ts
 * client.middlewareStack.use(getEncryptionPlugin(client, { keyring }));
 * ```
 *
 * Encrypts in the initialize step and decrypts by wrapping the response body
 * there, so the SDK's checksums are computed and validated over the
 * ciphertext S3 stores. `client` is used for the few extra requests the
 * plugin itself makes (HeadObject before a metadata-replacing copy,
 * ListParts before completing a multipart upload).
 * @public
 */
export function getEncryptionPlugin(client: S3Client, options: EncryptionOptions): EncryptionPlugin {
  if (!client || typeof client.send !== 'function') throw new TypeError('client must be an S3Client');
  const resolved = resolveOptions(options);
  const runtime: PluginRuntime = {
    options: resolved,
    client,
    uploads: new UploadRegistry(),
    ...(options.partSize === undefined ? {} : { partSizeOption: resolved.partSize }),
    streams: new StreamCache(resolved.keyring, resolved.streamCacheSize),
  };
  const middleware: InitializeMiddleware<any, any> = (next, context: HandlerExecutionContext) => async (args) => {
    const handler = context.commandName ? HANDLERS[context.commandName] : undefined;
    if (!handler || commandOptions(args.input).raw) return next(args);
    return presignAware(context.commandName as string, handler, args, next, runtime); // getSignedUrl, too
  };
  return {
    applyToStack(stack: MiddlewareStack<any, any>) {
      stack.add(middleware, encryptionMiddlewareOptions);
    },
    resumeToken: (uploadId, bucket, key) => toResumeToken(runtime.uploads.get(uploadId, bucket, key)),
    async resume(token, destination) {
      const state = await fromResumeToken(token, runtime.options, destination);
      await adoptListedParts(runtime.client, state, runtime.uploads.find(state.uploadId));
      runtime.uploads.add(state);
      return { bucket: state.bucket, key: state.key, uploadId: state.uploadId, partSize: state.partSize };
    },
  };
}
