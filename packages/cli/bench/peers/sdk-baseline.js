#!/usr/bin/env node
/**
 * The plain AWS SDK baseline of the peers bench: what a minimal Node program
 * without encryption costs for the same operations, in its own process like
 * the CLI. Plain JavaScript (no ts-node) so that its start-up is only Node's
 * and the SDK's.
 *
 *   node sdk-baseline.js put   BUCKET KEY FILE PART_BYTES QUEUE_SIZE   lib-storage Upload of FILE
 *   node sdk-baseline.js get   BUCKET KEY FILE                         GetObject streamed to FILE
 *   node sdk-baseline.js range BUCKET KEY FILE START COUNT             GetObject with Range to FILE
 *   node sdk-baseline.js head  BUCKET KEY                              HeadObject
 *
 * Endpoint from BENCH_ENDPOINT (path-style unless BENCH_PATH_STYLE=false);
 * credentials and region from the SDK's default chain (AWS_* variables).
 */

const { createReadStream, createWriteStream } = require('node:fs');
const { pipeline } = require('node:stream/promises');
const { S3Client, GetObjectCommand, HeadObjectCommand } = require('@aws-sdk/client-s3');

const [mode, bucket, key, file, a, b] = process.argv.slice(2);
const client = new S3Client({
  endpoint: process.env.BENCH_ENDPOINT,
  forcePathStyle: process.env.BENCH_PATH_STYLE !== 'false',
});

async function run() {
  if (mode === 'put') {
    // Loaded only here, as an application would: lib-storage is the upload's cost, not every command's.
    const { Upload } = require('@aws-sdk/lib-storage');
    const Body = createReadStream(file, { highWaterMark: 1 << 20 });
    await new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body },
      partSize: Number(a),
      queueSize: Number(b),
    }).done();
  } else if (mode === 'get' || mode === 'range') {
    const Range = mode === 'range' ? `bytes=${Number(a)}-${Number(a) + Number(b) - 1}` : undefined;
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range }));
    await pipeline(out.Body, createWriteStream(file));
  } else if (mode === 'head') {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

run().then(
  () => client.destroy(),
  (error) => {
    console.error(error);
    process.exitCode = 1;
    client.destroy();
  },
);
