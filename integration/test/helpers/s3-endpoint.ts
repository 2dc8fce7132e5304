/**
 * Where the integration tests find their S3 server.
 *
 * 1. `S3_ENDPOINT` (with `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY`, `S3_REGION`
 *    and optionally `S3_FORCE_PATH_STYLE`, default `true`): any S3 server, e.g.
 *    the local Ceph RADOS Gateway (`eval "$(bash scripts/s3-server.sh env)"`)
 *    or LocalStack (`localstack/README.md`).
 * 2. Otherwise, when a Docker engine answers, the jest globalSetup starts
 *    LocalStack (`localstack/localstack:3`) with testcontainers, exports the
 *    `S3_*` variables for the tests, and the globalTeardown stops it.
 * 3. Otherwise the run fails at once with a message saying how to start a server.
 */

// The settings module alone, not the package's index: jest's globalSetup loads this file with Node's own
// resolution (without the @encrypted-stream/source condition), where the index's @encrypted-stream/s3
// would need a build.
import {
  type Env,
  NO_SERVER_MESSAGE,
  type S3Settings,
  s3SettingsFromEnv,
} from '@encrypted-stream/test-support/s3-settings';
import type { StartedLocalStackContainer } from '@testcontainers/localstack';

/** The LocalStack image started when no server is configured and Docker answers. */
export const LOCALSTACK_IMAGE = 'localstack/localstack:3';

/** Whether a Docker (or compatible) engine answers; never throws. */
export async function dockerAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/** What {@link prepareEndpoint} decided; its `stop` undoes what it started. */
export interface PreparedEndpoint {
  readonly source: 'environment' | 'localstack';
  readonly settings: S3Settings;
  stop(): Promise<void>;
}

/** Starts LocalStack (S3 only) and returns how to reach it. */
export async function startLocalStack(): Promise<PreparedEndpoint> {
  const { LocalstackContainer } = await import('@testcontainers/localstack');
  const container: StartedLocalStackContainer = await new LocalstackContainer(LOCALSTACK_IMAGE)
    .withEnvironment({ SERVICES: 's3' })
    .start();
  return {
    source: 'localstack',
    settings: {
      endpoint: container.getConnectionUri(),
      region: 'us-east-1',
      accessKeyId: 'test',
      secretAccessKey: 'test',
      forcePathStyle: true,
    },
    stop: async () => {
      await container.stop();
    },
  };
}

/**
 * Decides where the tests run (see the file comment). Dependencies are
 * parameters so the decision logic can be exercised without a Docker engine.
 */
export async function prepareEndpoint(
  env: Env = process.env,
  deps: { dockerAvailable: () => Promise<boolean>; startLocalStack: () => Promise<PreparedEndpoint> } = {
    dockerAvailable,
    startLocalStack,
  },
): Promise<PreparedEndpoint> {
  const configured = s3SettingsFromEnv(env);
  if (configured) return { source: 'environment', settings: configured, stop: async () => {} };
  if (await deps.dockerAvailable()) return deps.startLocalStack();
  throw new Error(NO_SERVER_MESSAGE);
}
