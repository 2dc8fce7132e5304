import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

/**
 * What an upload driven by lib-storage did, seen from the client it sends
 * through: lib-storage's own state stays private to it.
 */
export interface ObservedClient {
  /** The client to give lib-storage: `client` itself for everything but `send`, which it observes. */
  readonly client: S3Client;
  /** The multipart upload's id, once CreateMultipartUpload answered. */
  readonly uploadId: string | undefined;
  /** Whether CompleteMultipartUpload succeeded (the object exists). */
  readonly completed: boolean;
  /** Settles once every request sent through `client` so far, and any sent meanwhile, has settled. */
  settled(): Promise<void>;
}

/** A command of class `type` (also when another copy of client-s3 made it). */
function isCommand(command: unknown, type: { new (...args: never[]): unknown; name: string }): boolean {
  return command instanceof type || (command as object | null)?.constructor?.name === type.name;
}

/**
 * A view of `client` whose `send` records the multipart upload's id, whether
 * it completed, and the requests in flight, and cancels the requests that
 * carry the body (UploadPart, PutObject) when `cancelParts` aborts. The view
 * inherits everything else from `client` (its config, middleware stack), so
 * lib-storage sees the caller's client.
 */
export function observeClient(client: S3Client, cancelParts: AbortSignal): ObservedClient {
  const inFlight = new Set<Promise<unknown>>();
  let uploadId: string | undefined;
  let completed = false;
  const send = (command: unknown, options?: { abortSignal?: AbortSignal }) => {
    const carriesBody = isCommand(command, UploadPartCommand) || isCommand(command, PutObjectCommand);
    const withSignal = carriesBody && !options?.abortSignal ? { ...options, abortSignal: cancelParts } : options;
    const sent = (client.send as (command: unknown, options?: object) => Promise<Record<string, unknown>>)(
      command,
      withSignal,
    );
    const tracked = sent.then(
      (output) => {
        if (isCommand(command, CreateMultipartUploadCommand)) uploadId = output.UploadId as string | undefined;
        if (isCommand(command, CompleteMultipartUploadCommand)) completed = true;
      },
      () => {},
    );
    inFlight.add(tracked);
    void tracked.then(() => inFlight.delete(tracked));
    return sent;
  };
  const view = Object.create(client, { send: { value: send } }) as S3Client;
  return {
    client: view,
    get uploadId() {
      return uploadId;
    },
    get completed() {
      return completed;
    },
    async settled() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}
