/**
 * The crash test's child process: uploads a big file with EncryptedMultipartUpload
 * (creating the upload, or resuming it from the token in the state file), writing
 * the resume token and each completed part number to the state file as it goes.
 * It never completes the upload: the test kills it (SIGKILL) at random points and
 * finishes the job itself. Protocol on stdout, one line each:
 * `ready <created|resumed>`, `start <n>`, `done <n>`, `uploaded <count>`.
 *
 * Run: node -r ts-node/register/transpile-only -r ./test/crash/workspace-paths.js test/crash/uploader.ts
 * with CRASH_CONFIG (JSON of {@link UploaderConfig}) and the S3_* variables.
 */
import { LocalKeyring } from '@encrypted-stream/codec';
import { EncryptedMultipartUpload } from '@encrypted-stream/s3';
import { plainClient } from '@encrypted-stream/test-support';
import { uploadMissingParts } from './parts';
import { readState, writeState } from './state';

export interface UploaderConfig {
  readonly bucket: string;
  readonly key: string;
  readonly file: string;
  readonly size: number;
  readonly partSize: number;
  readonly concurrency: number;
  readonly statePath: string;
  /** LocalKeyring JSON (the child's only key material, as a real resuming process would have). */
  readonly keyring: unknown;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.CRASH_CONFIG ?? '') as UploaderConfig;
  const keyring = LocalKeyring.fromJSON(config.keyring);
  const client = plainClient({ maxAttempts: 5 });
  const say = (line: string) => process.stdout.write(`${line}\n`);

  const state = readState(config.statePath);
  let mpu: EncryptedMultipartUpload;
  if (state.token) {
    mpu = await EncryptedMultipartUpload.resume(client, state.token, { keyring });
    say('ready resumed');
  } else {
    mpu = await EncryptedMultipartUpload.create(
      client,
      { Bucket: config.bucket, Key: config.key },
      { keyring, partSize: config.partSize },
    );
    writeState(config.statePath, { token: mpu.resumeToken, done: [] });
    say('ready created');
  }
  const done = [...readState(config.statePath).done];
  const uploaded = await uploadMissingParts(mpu, { path: config.file, size: config.size }, config.concurrency, {
    onStart: (n) => say(`start ${n}`),
    onDone: (n) => {
      done.push(n);
      writeState(config.statePath, { token: mpu.resumeToken, done });
      say(`done ${n}`);
    },
  });
  say(`uploaded ${uploaded.length}`);
  client.destroy();
}

main().catch((error: unknown) => {
  process.stderr.write(`uploader failed: ${(error as Error)?.stack ?? error}\n`);
  process.exit(1);
});
