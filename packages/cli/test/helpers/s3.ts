import { s3Settings } from '@encrypted-stream/test-support';

/** The CLI's flags for the server under test (or for `endpoint`, e.g. a proxy in front of it). */
export function s3Flags(endpoint = s3Settings().endpoint): string[] {
  return ['--endpoint', endpoint, '--path-style'];
}
