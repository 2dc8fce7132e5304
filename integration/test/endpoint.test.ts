/**
 * How the suite finds its server (test-support's s3-settings.ts, test/helpers/s3-endpoint.ts), checked
 * without Docker or network.
 */
import { NO_SERVER_MESSAGE, s3SettingsEnv, s3SettingsFromEnv } from '@encrypted-stream/test-support/s3-settings';
import { type PreparedEndpoint, prepareEndpoint } from './helpers/s3-endpoint';

const configured = {
  S3_ENDPOINT: 'http://127.0.0.1:7480',
  S3_ACCESS_KEY_ID: 'AK',
  S3_SECRET_ACCESS_KEY: 'SK',
  S3_REGION: 'eu-west-1',
};

test('S3_ENDPOINT and friends are read, path-style by default', () => {
  expect(s3SettingsFromEnv(configured)).toEqual({
    endpoint: 'http://127.0.0.1:7480',
    region: 'eu-west-1',
    accessKeyId: 'AK',
    secretAccessKey: 'SK',
    forcePathStyle: true,
  });
  expect(s3SettingsFromEnv({ ...configured, S3_FORCE_PATH_STYLE: 'false' })?.forcePathStyle).toBe(false);
  expect(s3SettingsFromEnv({ ...configured, S3_REGION: undefined })?.region).toBe('us-east-1');
  expect(s3SettingsFromEnv({})).toBeUndefined();
  expect(() => s3SettingsFromEnv({ ...configured, S3_SECRET_ACCESS_KEY: undefined })).toThrow(/S3_SECRET_ACCESS_KEY/);
  expect(() => s3SettingsFromEnv({ ...configured, S3_ENDPOINT: 'not a url' })).toThrow(/not a URL/);
  expect(() => s3SettingsFromEnv({ ...configured, S3_FORCE_PATH_STYLE: 'maybe' })).toThrow(/S3_FORCE_PATH_STYLE/);
  const env = s3SettingsEnv(s3SettingsFromEnv(configured)!);
  expect(s3SettingsFromEnv(env)).toEqual(s3SettingsFromEnv(configured));
});

describe('prepareEndpoint', () => {
  const localstack: PreparedEndpoint = {
    source: 'localstack',
    settings: {
      endpoint: 'http://localhost:49153',
      region: 'us-east-1',
      accessKeyId: 'test',
      secretAccessKey: 'test',
      forcePathStyle: true,
    },
    stop: async () => {},
  };

  test('a configured endpoint wins; Docker is not even asked', async () => {
    const dockerAvailable = jest.fn(async () => true);
    const startLocalStack = jest.fn(async () => localstack);
    const prepared = await prepareEndpoint(configured, { dockerAvailable, startLocalStack });
    expect(prepared.source).toBe('environment');
    expect(prepared.settings.endpoint).toBe('http://127.0.0.1:7480');
    expect(dockerAvailable).not.toHaveBeenCalled();
    expect(startLocalStack).not.toHaveBeenCalled();
  });

  test('no endpoint, Docker available → LocalStack is started', async () => {
    const startLocalStack = jest.fn(async () => localstack);
    const prepared = await prepareEndpoint({}, { dockerAvailable: async () => true, startLocalStack });
    expect(prepared).toBe(localstack);
    expect(startLocalStack).toHaveBeenCalledTimes(1);
  });

  test('no endpoint, no Docker → a clear error saying how to start the local server', async () => {
    const startLocalStack = jest.fn(async () => localstack);
    await expect(prepareEndpoint({}, { dockerAvailable: async () => false, startLocalStack })).rejects.toThrow(
      NO_SERVER_MESSAGE,
    );
    expect(NO_SERVER_MESSAGE).toContain('bash scripts/s3-server.sh up');
    expect(startLocalStack).not.toHaveBeenCalled();
  });
});
