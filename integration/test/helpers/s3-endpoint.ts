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
import type { StartedLocalStackContainer } from '@testcontainers/localstack';

/** Connection settings of the S3 server under test. */
export interface S3Endpoint {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly forcePathStyle: boolean;
}

export const LOCALSTACK_IMAGE = 'localstack/localstack:3';

export const NO_SERVER_MESSAGE = [
  'No S3 server for the integration tests.',
  'Start the local one and point the tests at it:',
  '  bash scripts/s3-server.sh up && eval "$(bash scripts/s3-server.sh env)"',
  'or set S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and S3_REGION for another server',
  '(LocalStack: see localstack/README.md), or make a Docker engine available so LocalStack is started automatically.',
].join('\n');

type Env = Readonly<Record<string, string | undefined>>;

function parseBoolean(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new Error(`${name} must be true or false, got "${value}"`);
}

/** The endpoint configured in the environment, or `undefined` when `S3_ENDPOINT` is not set. */
export function endpointFromEnv(env: Env = process.env): S3Endpoint | undefined {
  const endpoint = env.S3_ENDPOINT;
  if (!endpoint) return undefined;
  try {
    new URL(endpoint);
  } catch {
    throw new Error(`S3_ENDPOINT is not a URL: "${endpoint}"`);
  }
  const missing = ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`S3_ENDPOINT is set but ${missing.join(' and ')} is not`);
  return {
    endpoint,
    region: env.S3_REGION || 'us-east-1',
    accessKeyId: env.S3_ACCESS_KEY_ID as string,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY as string,
    forcePathStyle: parseBoolean('S3_FORCE_PATH_STYLE', env.S3_FORCE_PATH_STYLE, true),
  };
}

/** The endpoint for a test file; fails with how-to-start instructions when there is none. */
export function s3Endpoint(): S3Endpoint {
  const found = endpointFromEnv();
  if (!found) throw new Error(NO_SERVER_MESSAGE);
  return found;
}

/** The `S3_*` variables describing `endpoint`. */
export function endpointEnv(endpoint: S3Endpoint): Record<string, string> {
  return {
    S3_ENDPOINT: endpoint.endpoint,
    S3_ACCESS_KEY_ID: endpoint.accessKeyId,
    S3_SECRET_ACCESS_KEY: endpoint.secretAccessKey,
    S3_REGION: endpoint.region,
    S3_FORCE_PATH_STYLE: String(endpoint.forcePathStyle),
  };
}

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
  readonly endpoint: S3Endpoint;
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
    endpoint: {
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
  const configured = endpointFromEnv(env);
  if (configured) return { source: 'environment', endpoint: configured, stop: async () => {} };
  if (await deps.dockerAvailable()) return deps.startLocalStack();
  throw new Error(NO_SERVER_MESSAGE);
}

/** Fails fast, with instructions, when the configured server does not answer. */
export async function assertReachable(endpoint: S3Endpoint, timeoutMs = 5000): Promise<void> {
  try {
    await fetch(endpoint.endpoint, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new Error(
      `The S3 server at ${endpoint.endpoint} does not answer (${(error as Error).message}).\n${NO_SERVER_MESSAGE}`,
    );
  }
}
