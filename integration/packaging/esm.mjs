// The installed packages from an ES module program (see scenario.cjs).
import { createRequire } from 'node:module';
import * as s3 from '@aws-sdk/client-s3';
import * as codec from '@encrypted-stream/codec';
import { decryptingStream } from '@encrypted-stream/codec/node';
import * as gateway from '@encrypted-stream/gateway';
import * as plugin from '@encrypted-stream/s3';
import * as upload from '@encrypted-stream/s3/upload';
import scenario from './scenario.cjs';

// import and require load one copy: the same error classes and functions.
const require = createRequire(import.meta.url);
if (require('@encrypted-stream/codec').EncryptedStreamError !== codec.EncryptedStreamError) {
  throw new Error('import and require loaded two copies of @encrypted-stream/codec');
}
if (typeof decryptingStream !== 'function' || typeof gateway.createGatewayHandler !== 'function') {
  throw new Error('an entry lacks its exports');
}
console.log(JSON.stringify(await scenario.run({ s3, codec, plugin, upload }, 'esm')));
