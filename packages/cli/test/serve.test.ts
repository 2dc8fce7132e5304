/**
 * `serve` and `share` end to end: the built binary against the real S3
 * server. The signing key must be 0600 like the keyring; the gateway answers
 * only allowed Host names, treats the prefix as a folder, and sends
 * downloads (not documents) for anything that is not plain media.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LocalKeyring } from '@encrypted-stream/codec';
import { getEncryptionPlugin } from '@encrypted-stream/s3';
import { s3Settings, useBucket } from '@encrypted-stream/test-support';
import { EXIT, expectOk, expectOneLineError, jsonOf, type Running, run, start } from './helpers/cli';
import { useTempDir } from './helpers/files';
import { s3Flags } from './helpers/s3';

const dir = useTempDir('serve');
const bucket = useBucket('serve');
const path = (name: string) => join(dir.path, name);
let keyring: string;

/** The gateway's answer to one GET with this Host header. */
function get(port: number, target: string, host: string) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, headers: { host }, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      const pieces: Buffer[] = [];
      res.on('data', (piece: Buffer) => pieces.push(piece));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(pieces).toString() }),
      );
    });
    req.end();
  });
}

/** The first line a running `serve --json` printed: where it listens. */
async function listening(server: Running): Promise<{ listening: string; prefix: string; allowedHosts: string[] }> {
  let text = '';
  const exited = server.done.then((r) => {
    throw new Error(`serve exited (${r.code}): ${r.stderr}`);
  });
  const line = new Promise<string>((resolve) => {
    server.child.stdout?.on('data', (piece: Buffer) => {
      text += piece.toString('utf8');
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
  });
  return JSON.parse(await Promise.race([line, exited]));
}

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '--id', 'serve-key']));
  const s = s3Settings();
  const client = new S3Client({
    endpoint: s.endpoint,
    region: s.region,
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const keys = LocalKeyring.fromJSON(JSON.parse(readFileSync(keyring, 'utf8')));
  client.middlewareStack.use(getEncryptionPlugin(client, { keyring: keys }));
  const put = (Key: string, Body: string, ContentType: string) =>
    client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body, ContentType }));
  await put('backups/ok.txt', 'a backup', 'text/plain');
  await put('backups/page.html', '<script>alert(1)</script>', 'text/html');
  await put('backups/doc.pdf', '%PDF-1.4', 'application/pdf');
  await put('backups-private/secret.txt', 'the secret', 'text/plain');
  client.destroy();
});

describe('the signing key file must be private (0600), like the keyring', () => {
  test.concurrent('share with a 0644 signing key: exit 3, one line, no link', async () => {
    const file = path('open-share.key');
    writeFileSync(file, Buffer.alloc(32, 7), { mode: 0o600 });
    chmodSync(file, 0o644);
    const result = await run(['share', 'a.txt', '--sign-key', file]);
    expectOneLineError(
      result,
      EXIT.KEYRING,
      /signing key .*open-share\.key is accessible by other users \(mode 644\).*chmod 600/,
    );
    expect(result.stdout.length).toBe(0);
  });

  test.concurrent('serve with a 0640 signing key: exit 3 before it listens', async () => {
    const file = path('open-serve.key');
    writeFileSync(file, Buffer.alloc(32, 7), { mode: 0o600 });
    chmodSync(file, 0o640);
    const result = await run([
      'serve',
      `s3://${bucket.name}`,
      '--port',
      '0',
      '--sign-key',
      file,
      '-k',
      keyring,
      ...s3Flags(),
    ]);
    expectOneLineError(result, EXIT.KEYRING, /signing key .* \(mode 640\).*chmod 600/);
    expect(result.stdout.length).toBe(0);
  });

  test.concurrent('share with a 0600 signing key prints a link; a missing one is exit 3', async () => {
    const file = path('private.key');
    writeFileSync(file, Buffer.alloc(32, 7), { mode: 0o600 });
    const { link } = jsonOf<{ link: string }>(await run(['share', 'a.txt', '--sign-key', file, '--json']));
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:8080\/a\.txt\?expires=\d+&signature=/);
    expectOneLineError(await run(['share', 'a.txt', '--sign-key', path('none.key')]), EXIT.KEYRING, /cannot be read/);
  });
});

describe('serve s3://BUCKET/backups', () => {
  let server: Running;
  let port: number;

  beforeAll(async () => {
    server = start([
      'serve',
      `s3://${bucket.name}/backups`,
      '--port',
      '0',
      '--allow-host',
      'media.example',
      '--allow-host',
      'tv.lan',
      '--inline',
      'application/pdf',
      '--max-concurrent',
      '4',
      '--json',
      '-k',
      keyring,
      ...s3Flags(),
    ]);
    const info = await listening(server);
    expect(info.prefix).toBe('backups/');
    expect(info.allowedHosts).toEqual(['localhost', '127.0.0.1', '[::1]', 'media.example', 'tv.lan']);
    port = Number(new URL(info.listening).port);
  });
  afterAll(async () => {
    server.child.kill('SIGINT');
    const result = await server.done;
    expect(result.code).toBe(EXIT.OK);
  });

  test('answers loopback and --allow-host names; a rebinding Host gets 421', async () => {
    for (const host of [`127.0.0.1:${port}`, 'localhost', 'media.example:8080', 'tv.lan']) {
      const res = await get(port, '/ok.txt', host);
      expect([host, res.status, res.body]).toEqual([host, 200, 'a backup']);
    }
    const rebound = await get(port, '/ok.txt', `attacker.example:${port}`);
    expect(rebound.status).toBe(421);
    expect(rebound.body).toBe('');
  });

  test('the prefix is a folder: backups-private/secret.txt is not at /-private/secret.txt', async () => {
    const res = await get(port, '/-private/secret.txt', '127.0.0.1');
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('secret');
  });

  test('text/html is a download with nosniff and a sandboxing CSP; --inline application/pdf is inline', async () => {
    const html = await get(port, '/page.html', '127.0.0.1');
    expect(html.status).toBe(200);
    expect(html.headers['content-disposition']).toBe('attachment');
    expect(html.headers['x-content-type-options']).toBe('nosniff');
    expect(html.headers['content-security-policy']).toBe(
      "default-src 'none'; img-src 'self'; media-src 'self'; sandbox allow-same-origin",
    );
    const pdf = await get(port, '/doc.pdf', '127.0.0.1');
    expect(pdf.headers['content-disposition']).toBeUndefined();
    const text = await get(port, '/ok.txt', '127.0.0.1');
    expect(text.headers['content-disposition']).toBeUndefined();
  });
});

test('serve flags are checked: a bad --allow-host or --max-concurrent is a usage error (exit 2)', async () => {
  const base = ['serve', `s3://${bucket.name}`, '--port', '0', '-k', keyring, ...s3Flags()];
  expectOneLineError(await run([...base, '--allow-host', 'media.example:8080']), EXIT.USAGE, /allowed host/);
  expectOneLineError(await run([...base, '--max-concurrent', '0']), EXIT.USAGE, /--max-concurrent/);
  expectOneLineError(await run([...base, '--inline', 'text/html, video/*']), EXIT.USAGE, /inline type/);
});
