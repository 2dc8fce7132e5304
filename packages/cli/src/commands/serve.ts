import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { isIPv6 } from 'node:net';
import {
  createGatewayHandler,
  DEFAULT_INLINE_TYPES,
  folderPrefix,
  LOOPBACK_HOSTS,
  signPath,
} from '@encrypted-stream/gateway';
import type { Command, OptionValues } from '../command';
import { stringOption } from '../command';
import { CliError, ExitCode, usageError } from '../exit-codes';
import { checkPrivateFile } from '../keyring-file';
import { parseS3Url } from '../s3-url';
import { printableJson } from '../terminal-text';

/** Reads a signing key file (any bytes, at least 32), refusing one other users can access, like the keyring. */
async function signingKey(path: string): Promise<Uint8Array> {
  await checkPrivateFile(path, 'signing key');
  const key = await readFile(path).catch(() => {
    throw new CliError(ExitCode.KEYRING, `signing key ${path} cannot be read`);
  });
  if (key.length < 32) throw new CliError(ExitCode.KEYRING, `signing key ${path} must hold at least 32 bytes`);
  return key;
}

function parseDuration(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (!m) throw usageError(`--expires: "${text}" is not a duration like 90s, 15m, 12h or 7d`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'] * 1000;
}

/** A repeatable option's values (parseArgs `multiple: true` gives an array). */
function listOption(values: OptionValues, name: string): string[] {
  const value = (values as Record<string, unknown>)[name];
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
}

/** Addresses that listen on every interface: no one name the browser would use. */
const WILDCARDS = new Set(['0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0']);

/** `serve`: an HTTP gateway streaming decrypted objects of one bucket/prefix, on loopback by default. */
export const serve: Command = {
  name: 'serve',
  usage:
    'serve s3://BUCKET[/PREFIX] [--port 8080] [--host 127.0.0.1] [--allow-host NAME]… [--sign-key FILE] ' +
    '[--inline TYPE]… [--max-concurrent 32]',
  summary:
    'serve decrypted objects over HTTP with byte ranges (for browsers and media players); only to loopback, ' +
    '--host and --allow-host names',
  keyrings: true,
  help: [
    'Every client range is one ranged S3 request; a chunk that fails authentication mid-response cuts the',
    'connection. Answers only requests whose Host names it (loopback, --host, --allow-host): others get',
    '421, so a DNS-rebinding page cannot read through it. Ctrl-C stops it.',
  ],
  options: {
    port: { type: 'string', value: 'PORT', description: 'port to listen on (default 8080; 0 picks a free one)' },
    host: { type: 'string', value: 'ADDRESS', description: 'address to listen on (default 127.0.0.1)' },
    'allow-host': {
      type: 'string',
      multiple: true,
      value: 'NAME',
      description: "another Host name to answer (e.g. a reverse proxy's public name)",
    },
    'sign-key': {
      type: 'string',
      value: 'FILE',
      description: 'require links signed with this key (0600, at least 32 bytes; see share)',
    },
    inline: {
      type: 'string',
      multiple: true,
      value: 'TYPE',
      description: 'another media type to serve inline rather than as an attachment',
    },
    'max-concurrent': {
      type: 'string',
      value: 'N',
      description: 'requests holding an S3 request at once (default 32; up to 4x more wait)',
    },
  },
  examples: [
    'encrypted-stream serve s3://bucket/videos/ --port 8080',
    'encrypted-stream serve s3://bucket/videos/ --sign-key ~/.es-sign-key',
  ],
  async run(context, args, values) {
    if (args.length !== 1) throw usageError('serve needs one s3://bucket[/prefix]');
    const { bucket, key } = parseS3Url(args[0] as string, true);
    const prefix = folderPrefix(key); // `backups` serves backups/…, never backups-private/…
    const port = Number(stringOption(values, 'port') ?? 8080);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError('--port must be 0 … 65535');
    const host = stringOption(values, 'host') ?? '127.0.0.1';
    const maxConcurrent = Number(stringOption(values, 'max-concurrent') ?? 32);
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw usageError('--max-concurrent must be ≥ 1');
    // The name given to --host is one users will type; a wildcard address (or one with a zone id) names nothing.
    const allowedHosts = [
      ...(WILDCARDS.has(host) || host.includes('%') ? [] : [host]),
      ...listOption(values, 'allow-host'),
    ];
    const keyFile = stringOption(values, 'sign-key');
    const signing = keyFile ? await signingKey(keyFile) : undefined; // before S3 clients: a bad key file fails fast
    const { encrypted } = await context.clients();
    const handler = createGatewayHandler({
      client: encrypted,
      scope: { bucket, prefix },
      allowedHosts,
      inlineTypes: [...DEFAULT_INLINE_TYPES, ...listOption(values, 'inline')],
      maxConcurrentRequests: maxConcurrent,
      ...(signing ? { signingKey: signing } : {}),
      log: (entry) => {
        if (entry.level !== 'info' || context.options.verbose) context.stderr.write(`${printableJson(entry)}\n`);
      },
    });
    const server = createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    const address = server.address();
    const actual = typeof address === 'object' && address ? address.port : port;
    const origin = `http://${isIPv6(host) ? `[${host}]` : host}:${actual}/`;
    context.report(
      { listening: origin, bucket, prefix, allowedHosts: [...new Set([...LOOPBACK_HOSTS, ...allowedHosts])] },
      `serving s3://${bucket}/${prefix} at ${origin} (Ctrl-C to stop)`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => server.close(() => resolve());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  },
};

/** `share`: a signed, expiring link to an object served by `serve --sign-key`. */
export const share: Command = {
  name: 'share',
  usage: 'share PATH --sign-key FILE [--expires 1h] [--base http://127.0.0.1:8080]',
  summary: 'print a signed, expiring gateway link for PATH (the object key under the served prefix)',
  options: {
    'sign-key': { type: 'string', value: 'FILE', description: 'the key `serve --sign-key` was given' },
    expires: {
      type: 'string',
      value: 'DURATION',
      description: 'how long the link works: 90s, 15m, 12h, 7d (default 1h)',
    },
    base: { type: 'string', value: 'URL', description: "the gateway's address (default http://127.0.0.1:8080)" },
  },
  examples: ['encrypted-stream share clip.webm --sign-key ~/.es-sign-key --expires 12h'],
  async run(context, args, values) {
    if (args.length !== 1) throw usageError('share needs one object path');
    const keyFile = stringOption(values, 'sign-key');
    if (!keyFile) throw usageError('share needs --sign-key FILE');
    const path = `/${(args[0] as string).split('/').map(encodeURIComponent).join('/')}`;
    const expiresAt = new Date(Date.now() + parseDuration(stringOption(values, 'expires') ?? '1h'));
    const link = `${stringOption(values, 'base') ?? 'http://127.0.0.1:8080'}${signPath(path, await signingKey(keyFile), expiresAt)}`;
    context.report({ link, expiresAt: expiresAt.toISOString() }, link);
  },
};
