// The installed packages from a CommonJS program (see scenario.cjs).
'use strict';
const { run } = require('./scenario.cjs');

const modules = {
  s3: require('@aws-sdk/client-s3'),
  codec: require('@encrypted-stream/codec'),
  plugin: require('@encrypted-stream/s3'),
  upload: require('@encrypted-stream/s3/upload'),
};
if (typeof require('@encrypted-stream/gateway').createGatewayHandler !== 'function') throw new Error('gateway entry');
run(modules, 'cjs').then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
