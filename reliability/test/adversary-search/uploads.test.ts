/**
 * Adversary search over multipart upload state (issue 10, holes 2 and 3), against the real S3 server:
 *
 * - every field of a resume token (today base64url JSON { v, b, k, u, p, h: { h, k, w }, f?, m }) edited or
 *   removed, and re-encoded: `resume` must refuse with ES_INVALID_RESUME_TOKEN before any part is sent; a token
 *   for another bucket/key is refused when `resume` is told the destination;
 * - hole 2 end to end: the owner resumes a token whose header the adversary set to object X's; had the
 *   resume been accepted, the owner's new parts are valid chunks of X, and the adversary splices them into X;
 * - hole 3: sequences of UploadPart (EncryptedMultipartUpload and the plugin's commands) that would seal a
 *   second final chunk in one stream (a second final part, parts after the final one, the final part
 *   re-uploaded with another length or demoted, a final part numbered before an uploaded one) must be
 *   refused with ES_INVALID_UPLOAD at the latest at the step that seals it.
 */
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { EncryptedMultipartUpload, lastPart, METADATA_KEYS, withEncryption } from '@encrypted-stream/s3';
import { encryptedClient, useBucket } from '../helpers';
import { errorCode, errorMessage, type Judgement } from './oracle';
import { CONTROL, expectClean, Tally } from './tally';
import { getStored, MIN_PART, plaintextOf, pluginGet, putStored, SMALL, victimKeyring } from './victim';

const bucket = useBucket('adv-search-uploads');
const tally = new Tally();
const keyring = victimKeyring();
let plugin: ReturnType<typeof encryptedClient>;
let victim: S3Client;

beforeAll(() => {
  plugin = encryptedClient({ keyring, chunkSize: SMALL });
  victim = encryptedClient({ keyring, chunkSize: SMALL }).client;
});
afterAll(() => {
  plugin?.client.destroy();
  victim?.destroy();
  const { run, accepted } = tally.record('upload state');
  console.log(`adversary search (upload state): ${run} cases, ${accepted} mutations accepted`);
});

type ResumeOptions = Parameters<typeof EncryptedMultipartUpload.resume>[2];
/** `resume` told the destination (the option issue 10's fix adds; passed as data so this compiles before it). */
const resumeOptions = (destination?: { bucket: string; key: string }) =>
  ({ keyring, chunkSize: SMALL, ...destination }) as ResumeOptions;

type Token = Record<string, unknown> & { h?: Record<string, unknown> };
const decode = (token: string): Token => JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
const encode = (body: Token): string => Buffer.from(JSON.stringify(body)).toString('base64url');

async function outcomeOf(
  work: () => Promise<unknown>,
): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
  try {
    await work();
    return { ok: true };
  } catch (error) {
    return { ok: false, code: errorCode(error), message: errorMessage(error) };
  }
}

/** A refusal with `code` is the only acceptable outcome. */
function mustRefuse(
  o: { ok: true } | { ok: false; code: string; message: string },
  code: string,
  accepted: string,
): Judgement {
  if (o.ok) return { verdict: 'violation', detail: accepted };
  return o.code === code
    ? { verdict: 'refused', detail: o.code }
    : { verdict: 'violation', detail: `refused with ${o.code} (${o.message}), not ${code}` };
}

// -----------------------------------------------------------------------------------------------
// Resume tokens

const flipChar = (s: string) => `${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.slice(-1)}`;
const flipDecoded = (s: string, at: number) => {
  const bytes = Buffer.from(s, 'base64url');
  bytes[at] = (bytes[at] as number) ^ 1;
  return bytes.toString('base64url');
};

interface TokenWorld {
  token: string;
  other: { uploadId: string; header: { h: string; k: string; w: string } };
}

/** Each edit returns the edited token body, or a string saying why it cannot be made (itself a finding). */
const TOKEN_EDITS: [string, (t: Token, w: TokenWorld) => Token | string][] = [
  ['v: the other version', (t) => ({ ...t, v: t.v === 1 ? 2 : 1 })],
  ['b: another bucket', (t) => ({ ...t, b: `${t.b}-elsewhere` })],
  ['k: another key', (t) => ({ ...t, k: `${t.k}-elsewhere` })],
  ["u: another of the owner's uploads", (t, w) => ({ ...t, u: w.other.uploadId })],
  ['p: another valid part size', (t) => ({ ...t, p: 2 * (t.p as number) })],
  ["h: another object's header (hole 2)", (t, w) => ({ ...t, h: { ...w.other.header } })],
  ['h.h: a stream id byte flipped', (t) => ({ ...t, h: { ...t.h, h: flipDecoded(t.h?.h as string, 20) } })],
  ['h.k: another key id the keyring holds', (t) => ({ ...t, h: { ...t.h, k: 'k-old' } })],
  ['h.w: a byte flipped', (t) => ({ ...t, h: { ...t.h, w: flipDecoded(t.h?.w as string, 30) } })],
  ['f: a final part claimed', (t) => ({ ...t, f: Array.isArray(t.f) ? [(t.f[0] as number) + 1, t.f[1]] : [1, 100] })],
  ['m: the MAC edited', (t) => (typeof t.m === 'string' ? { ...t, m: flipChar(t.m) } : 'the token carries no MAC (m)')],
  ...['v', 'b', 'k', 'u', 'p', 'h', 'm'].map(
    (field) =>
      [
        `${field}: removed`,
        (t: Token) => {
          if (!(field in t)) return `the token has no field ${field}`;
          const { [field]: _removed, ...rest } = t;
          return rest;
        },
      ] as [string, (t: Token, w: TokenWorld) => Token | string],
  ),
];

describe('resume tokens', () => {
  const world = {} as TokenWorld & { key: string; failure?: unknown };
  beforeAll(async () => {
    try {
      world.key = 'token/victim';
      const upload = await EncryptedMultipartUpload.create(
        bucket.client,
        { Bucket: bucket.name, Key: world.key },
        { keyring, chunkSize: SMALL, partSize: MIN_PART },
      );
      await upload.uploadPart(1, plaintextOf('token', MIN_PART));
      world.token = upload.resumeToken;
      const other = await EncryptedMultipartUpload.create(
        bucket.client,
        { Bucket: bucket.name, Key: 'token/other' },
        { keyring, chunkSize: SMALL, partSize: MIN_PART },
      );
      await plugin.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'token/x', Body: 'x' }));
      const x = (await getStored(bucket.client, bucket.name, 'token/x')).metadata;
      world.other = {
        uploadId: other.uploadId,
        header: { h: x[METADATA_KEYS.h] as string, k: x[METADATA_KEYS.k] as string, w: x[METADATA_KEYS.w] as string },
      };
      // Control: the token, decoded and re-encoded untouched, resumes (so edits are judged, not the re-encoding).
      const again = await EncryptedMultipartUpload.resume(
        bucket.client,
        encode(decode(world.token)),
        resumeOptions({ bucket: bucket.name, key: world.key }),
      );
      tally.add(
        { path: 'resume token', size: undefined, kind: CONTROL, instance: 're-encoded, untouched', read: 'resume' },
        again.uploadId === upload.uploadId
          ? { verdict: 'intact', detail: 'resumed' }
          : { verdict: 'violation', detail: 'resumed another upload' },
      );
      for (const [edit, apply] of TOKEN_EDITS) {
        const edited = apply(decode(world.token), world);
        const judgement: Judgement =
          typeof edited === 'string'
            ? { verdict: 'violation', detail: edited }
            : mustRefuse(
                await outcomeOf(() => EncryptedMultipartUpload.resume(bucket.client, encode(edited), resumeOptions())),
                'ES_INVALID_RESUME_TOKEN',
                'resume accepted the edited token',
              );
        tally.add(
          { path: 'resume token', size: undefined, kind: edit, instance: 'field edit', read: 'resume' },
          judgement,
        );
      }
      for (const [what, destination] of [
        ['another key', { bucket: bucket.name, key: 'token/elsewhere' }],
        ['another bucket', { bucket: `${bucket.name}-elsewhere`, key: world.key }],
      ] as const) {
        tally.add(
          {
            path: 'resume token',
            size: undefined,
            kind: `destination: ${what}`,
            instance: 'untouched token',
            read: 'resume',
          },
          mustRefuse(
            await outcomeOf(() =>
              EncryptedMultipartUpload.resume(bucket.client, world.token, resumeOptions(destination)),
            ),
            'ES_INVALID_RESUME_TOKEN',
            `resume accepted a token for s3://${bucket.name}/${world.key} when told ${destination.bucket}/${destination.key}`,
          ),
        );
      }
    } catch (error) {
      world.failure = error;
    }
  });

  test('control: the untouched token, re-encoded, resumes', () =>
    expectClean(tally.select('resume token', CONTROL, 'resume'), world.failure));
  test.each(TOKEN_EDITS.map(([edit]) => edit))('%s → ES_INVALID_RESUME_TOKEN at resume', (edit) =>
    expectClean(tally.select('resume token', edit, 'resume'), world.failure),
  );
  test.each(['another key', 'another bucket'])('an untouched token, resume told %s → ES_INVALID_RESUME_TOKEN', (what) =>
    expectClean(tally.select('resume token', `destination: ${what}`, 'resume'), world.failure),
  );
});

// -----------------------------------------------------------------------------------------------
// Hole 2 end to end

describe("hole 2: a resume token carrying object X's header", () => {
  const SIZE = 3 * SMALL + 5;
  const X = plaintextOf('hole2-x', SIZE);
  const D = plaintextOf('hole2-new-data', SIZE);
  const state: { failure?: unknown } = {};

  beforeAll(async () => {
    try {
      // X: a multipart object of unrecorded size.
      const x = await EncryptedMultipartUpload.create(
        bucket.client,
        { Bucket: bucket.name, Key: 'hole2/x' },
        { keyring, chunkSize: SMALL, partSize: MIN_PART },
      );
      await x.uploadPart(1, X, { isLastPart: true });
      await x.complete();
      const xStored = await getStored(bucket.client, bucket.name, 'hole2/x');
      // The owner starts another upload; the adversary edits its saved token.
      const u = await EncryptedMultipartUpload.create(
        bucket.client,
        { Bucket: bucket.name, Key: 'hole2/new' },
        { keyring, chunkSize: SMALL, partSize: MIN_PART },
      );
      const forged = decode(u.resumeToken);
      forged.h = {
        h: xStored.metadata[METADATA_KEYS.h],
        k: xStored.metadata[METADATA_KEYS.k],
        w: xStored.metadata[METADATA_KEYS.w],
      };
      const token = encode(forged);
      let resumed: EncryptedMultipartUpload | undefined;
      const low = await outcomeOf(async () => {
        resumed = await EncryptedMultipartUpload.resume(
          bucket.client,
          token,
          resumeOptions({ bucket: bucket.name, key: 'hole2/new' }),
        );
      });
      const pluginResume = plugin.plugin.resume as (t: string, d?: unknown) => Promise<unknown>;
      const viaPlugin = await outcomeOf(() => pluginResume(token, { bucket: bucket.name, key: 'hole2/new' }));
      tally.add(
        {
          path: 'hole 2',
          size: SIZE,
          kind: 'forged token',
          instance: 'resume',
          read: 'EncryptedMultipartUpload.resume',
        },
        mustRefuse(low, 'ES_INVALID_RESUME_TOKEN', "resume accepted a token carrying X's header"),
      );
      tally.add(
        { path: 'hole 2', size: SIZE, kind: 'forged token', instance: 'resume', read: 'plugin.resume' },
        mustRefuse(viaPlugin, 'ES_INVALID_RESUME_TOKEN', "plugin.resume accepted a token carrying X's header"),
      );
      if (resumed) {
        // The hole, carried out: the owner uploads new data D; the adversary completes the upload, takes its
        // body and puts it under X's key with X's metadata. Does X now read as D?
        await resumed.uploadPart(1, D, { isLastPart: true });
        await resumed.complete();
        const spliced = await getStored(bucket.client, bucket.name, 'hole2/new');
        await putStored(bucket.client, bucket.name, 'hole2/x', { body: spliced.body, metadata: xStored.metadata });
        const read = await pluginGet(victim, bucket.name, 'hole2/x');
        tally.add(
          {
            path: 'hole 2',
            size: SIZE,
            kind: 'forged token',
            instance: 'splice',
            read: 'GetObject of X after the splice',
          },
          read.kind === 'data'
            ? {
                verdict: 'violation',
                detail: read.data.equals(D)
                  ? "X reads as the owner's new data D (the forged token made D a valid stream of X)"
                  : `X reads as ${read.data.length} other bytes`,
              }
            : { verdict: 'refused', detail: read.code },
        );
      }
    } catch (error) {
      state.failure = error;
    }
  });

  test.each(['EncryptedMultipartUpload.resume', 'plugin.resume'])('%s refuses it (ES_INVALID_RESUME_TOKEN)', (read) =>
    expectClean(tally.select('hole 2', 'forged token', read), state.failure),
  );
  test("X is never readable with the owner's new data", () =>
    expectClean(tally.select('hole 2', 'forged token', 'GetObject of X after the splice'), state.failure));
});

// -----------------------------------------------------------------------------------------------
// Hole 3: one final chunk per stream

/** A step of an upload: part number, plaintext length (F = a full part), marked final or not. */
interface Step {
  readonly part: number;
  readonly length: number | 'full';
  readonly final: boolean;
  /** The step that would seal a second end of the stream: the refusal must come at the latest here. */
  readonly critical?: boolean;
}
const PART = 2 * SMALL; // small parts: every refusal must come before Complete, where S3's 5 MiB minimum applies

const SEQUENCES: [string, Step[]][] = [
  [
    'a second part marked final',
    [
      { part: 1, length: 'full', final: false },
      { part: 2, length: 100, final: true },
      { part: 3, length: 100, final: true, critical: true },
    ],
  ],
  [
    'a part uploaded after the final one',
    [
      { part: 1, length: 'full', final: true },
      { part: 2, length: 'full', final: false, critical: true },
    ],
  ],
  [
    'the final part re-uploaded as a full part, then a new final part',
    [
      { part: 1, length: 'full', final: false },
      { part: 2, length: 100, final: true },
      { part: 2, length: 'full', final: false },
      { part: 3, length: 100, final: true, critical: true },
    ],
  ],
  [
    'the final part re-uploaded with another length',
    [
      { part: 1, length: 'full', final: false },
      { part: 2, length: 100, final: true },
      { part: 2, length: 3000, final: true, critical: true },
    ],
  ],
  [
    'a final part numbered before an uploaded part',
    [
      { part: 2, length: 'full', final: false },
      { part: 1, length: 'full', final: true, critical: true },
    ],
  ],
];

type Uploader = {
  start(key: string): Promise<{ uploadPart(step: Step, data: Buffer): Promise<unknown>; abort(): Promise<unknown> }>;
};

const UPLOADERS: [string, Uploader][] = [
  [
    'EncryptedMultipartUpload',
    {
      async start(Key) {
        const upload = await EncryptedMultipartUpload.create(
          bucket.client,
          { Bucket: bucket.name, Key },
          { keyring, chunkSize: SMALL, partSize: PART },
        );
        return {
          uploadPart: (step, data) => upload.uploadPart(step.part, data, { isLastPart: step.final }),
          abort: () => upload.abort(),
        };
      },
    },
  ],
  [
    'plugin multipart commands',
    {
      async start(Key) {
        const { UploadId } = await plugin.client.send(
          new CreateMultipartUploadCommand(withEncryption({ Bucket: bucket.name, Key }, { partSize: PART })),
        );
        return {
          uploadPart: (step, data) => {
            const input = { Bucket: bucket.name, Key, UploadId, PartNumber: step.part, Body: data };
            return plugin.client.send(new UploadPartCommand(step.final ? lastPart(input) : input));
          },
          abort: () => plugin.client.send(new AbortMultipartUploadCommand({ Bucket: bucket.name, Key, UploadId })),
        };
      },
    },
  ],
];

describe.each(UPLOADERS)('hole 3: one final chunk per stream (%s)', (name, uploader) => {
  const state: { failure?: unknown } = {};
  beforeAll(async () => {
    try {
      let n = 0;
      for (const [sequence, steps] of SEQUENCES) {
        const upload = await uploader.start(`hole3/${name.replace(/\W+/g, '-')}/${++n}`);
        let judgement: Judgement | undefined;
        for (const [i, step] of steps.entries()) {
          const length = step.length === 'full' ? PART : step.length;
          const o = await outcomeOf(() => upload.uploadPart(step, plaintextOf(`hole3-${i}`, length)));
          if (!o.ok) {
            judgement =
              o.code === 'ES_INVALID_UPLOAD'
                ? { verdict: 'refused', detail: `ES_INVALID_UPLOAD at step ${i + 1} (part ${step.part})` }
                : {
                    verdict: 'violation',
                    detail: `step ${i + 1} failed with ${o.code} (${o.message}), not ES_INVALID_UPLOAD`,
                  };
            break;
          }
          if (step.critical) {
            judgement = {
              verdict: 'violation',
              detail: `step ${i + 1} (part ${step.part}, ${length} bytes${step.final ? ', final' : ''}) was sealed and sent: the stream now has two ends`,
            };
            break;
          }
        }
        tally.add(
          {
            path: name,
            size: undefined,
            kind: sequence,
            instance: steps.map((s) => `${s.part}${s.final ? 'F' : ''}`).join(' '),
            read: 'UploadPart',
          },
          judgement ?? { verdict: 'violation', detail: 'no step refused' },
        );
        await upload.abort().catch(() => {});
      }
    } catch (error) {
      state.failure = error;
    }
  });

  test.each(SEQUENCES.map(([sequence]) => sequence))('%s → ES_INVALID_UPLOAD before it is sent', (sequence) =>
    expectClean(tally.select(name, sequence, 'UploadPart'), state.failure),
  );
});

test('control: parts out of order, the final one first, complete and read back (5 MiB parts)', async () => {
  const size = 2 * MIN_PART + 777;
  const data = plaintextOf('hole3-control', size);
  const upload = await EncryptedMultipartUpload.create(
    bucket.client,
    { Bucket: bucket.name, Key: 'hole3/control' },
    { keyring, chunkSize: SMALL, partSize: MIN_PART },
  );
  await upload.uploadPart(3, data.subarray(2 * MIN_PART), { isLastPart: true });
  await upload.uploadPart(1, data.subarray(0, MIN_PART));
  await upload.uploadPart(2, data.subarray(MIN_PART, 2 * MIN_PART));
  await upload.complete();
  const read = await victim.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'hole3/control' }));
  expect(
    Buffer.from(await (read.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).equals(
      data,
    ),
  ).toBe(true);
});
