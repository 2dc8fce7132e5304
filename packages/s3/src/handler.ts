import type { S3Client } from '@aws-sdk/client-s3';
import type { InitializeHandler, InitializeHandlerArguments, InitializeHandlerOutput } from '@smithy/types';
import type { ResolvedOptions } from './options';
import type { StreamCache } from './stream-cache';
import type { UploadRegistry } from './upload-registry';

/** The arguments and continuation of one intercepted command. */
export type Next = InitializeHandler<any, any>;
/** Arguments of an intercepted command. */
export type Args = InitializeHandlerArguments<any>;
/** Result of an intercepted command. */
export type Result = InitializeHandlerOutput<any>;

/** What every command handler shares: options, the client for extra requests, live uploads. */
export interface PluginRuntime {
  readonly options: ResolvedOptions;
  /** Sends plugin-internal requests (marked raw so the plugin passes them through). */
  readonly client: S3Client;
  readonly uploads: UploadRegistry;
  /**
   * The `partSize` option, when the caller gave one: the part size of uploads
   * created without `withEncryption(input, { partSize })`. Without it, each
   * such upload takes its part size from its part 1 (lib-storage's parts).
   */
  readonly partSizeOption?: number;
  /** Streams reads already opened. */
  readonly streams: StreamCache;
}

/** Handles one command type. */
export type CommandHandler = (args: Args, next: Next, runtime: PluginRuntime) => Promise<Result>;
