import type { OptionSpec } from './command';
import { KEYRING_ENV } from './keyring-file';

/** Options every command takes (after the command name). */
export const GLOBAL_OPTIONS: OptionSpec = {
  keyring: {
    type: 'string',
    short: 'k',
    value: 'FILE',
    description: `keyring file (default: $${KEYRING_ENV}); must be mode 0600`,
  },
  endpoint: { type: 'string', value: 'URL', description: 'S3 endpoint (default: AWS)' },
  region: { type: 'string', value: 'REGION', description: 'S3 region (default: the AWS SDK chain, e.g. $AWS_REGION)' },
  profile: { type: 'string', value: 'NAME', description: 'profile of ~/.aws/config and ~/.aws/credentials' },
  'path-style': { type: 'boolean', description: 'path-style addressing (most S3-compatible servers)' },
  json: { type: 'boolean', description: 'machine-readable result on stdout (stderr when stdout carries data)' },
  quiet: { type: 'boolean', short: 'q', description: 'no progress or summary' },
  verbose: { type: 'boolean', short: 'v', description: 'more detail on errors' },
  help: { type: 'boolean', short: 'h', description: "this command's help" },
};
