/**
 * Adversary search over S3 objects (issue 10): a generated matrix, against the
 * real S3 server, of
 *
 *   write path (9: plugin PutObject, plugin multipart commands, EncryptedMultipartUpload
 *   without / with plaintextSize, EncryptedUpload of a stream / of a Buffer, CLI put,
 *   plugin CopyObject, rotateObjectKey)
 *   × plaintext size (0, 1, C−1, C, C+1, 2C, 3C+5; C = 4 KiB, 64 KiB for the CLI)
 *   × mutation of the stored object, written back with a plain client (mutations.ts:
 *   cuts at every chunk boundary and +1/+39/+40/+41, the final chunk replaced, bytes
 *   appended, chunks dropped / duplicated / swapped / overwritten / spliced, es-h /
 *   es-k / es-w flipped, swapped, removed)
 *   × read path (plugin GetObject whole and four ranges, HeadObject, the HTTP
 *   gateway whole and two ranges, CLI verify; CLI get sampled)
 *
 * judged by oracle.ts against the original plaintext. Tests are named
 * `<write path> › <mutation kind> › <read path>`; a failure lists the offending
 * (size, instance) pairs with what the read returned.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { encryptedClient, useBucket } from '../helpers';
import {
  BODY_KINDS,
  type BodyMutation,
  bodyMutations,
  type Layout,
  layout,
  METADATA_MUTATIONS,
  type MetadataMutation,
} from './mutations';
import {
  expectedFor,
  type Judgement,
  judgeHead,
  judgeHttp,
  judgeRead,
  judgeStrict,
  type RangeName,
  type RangeSpec,
  rangeHeader,
  rangesFor,
} from './oracle';
import { CONTROL, expectClean, Tally } from './tally';
import {
  cliGet,
  cliVerify,
  DEFAULT,
  detachedOf,
  type Gateway,
  getStored,
  mapLimit,
  oldKeyring,
  plaintextOf,
  pluginGet,
  pluginHead,
  putStored,
  recordsSize,
  SMALL,
  type Stored,
  startGateway,
  victimKeyring,
  WRITE_PATHS,
  type WriteContext,
  type WritePath,
  withDetached,
  writeKeyringFile,
} from './victim';

const sizesFor = (C: number) => [0, 1, C - 1, C, C + 1, 2 * C, 3 * C + 5];
/** The header-string mutations do not depend on the body's geometry: three sizes suffice (empty, 2C, 3C+5). */
const metadataSizes = (C: number) => [0, 2 * C, 3 * C + 5];
const META_KINDS = METADATA_MUTATIONS.map((m) => m.kind);
const KINDS = [CONTROL, ...BODY_KINDS, ...META_KINDS];

/** The in-process and gateway reads every object gets: name → how. */
const PLUGIN_READS: [string, RangeName][] = [
  ['GetObject whole', 'whole'],
  ['GetObject bytes=a-b ending at the last byte', 'end'],
  ['GetObject bytes=a-b ending at a chunk boundary', 'boundary'],
  ['GetObject bytes=a-', 'from'],
  ['GetObject bytes=-n', 'suffix'],
];
const HEAD_READ = 'HeadObject (size recorded in the original)';
const GATEWAY_READS: [string, RangeName][] = [
  ['gateway GET whole', 'whole'],
  ['gateway GET bytes=a-', 'from'],
  ['gateway GET bytes=-n', 'suffix'],
];
const VERIFY_READ = 'CLI verify';
const READS = [...PLUGIN_READS.map(([n]) => n), HEAD_READ, ...GATEWAY_READS.map(([n]) => n), VERIFY_READ];

/** CLI get (one process per object) is sampled: the cut for every path, and a rotation of the other kinds. */
const CLI_GET_WHOLE = 'CLI get (whole object, must fail)';
const CLI_GET_RANGE = 'CLI get --range=a- (sampled)';
function cliGetKinds(pathIndex: number): string[] {
  const others = KINDS.filter((k) => k !== CONTROL && k !== 'cut at boundary +40');
  const per = Math.ceil(others.length / WRITE_PATHS.length);
  return [CONTROL, 'cut at boundary +40', ...others.slice(pathIndex * per, pathIndex * per + per)];
}

const bucket = useBucket('adv-search');
const tally = new Tally();
let tmp: string;
let keyringFile: string;
let ctx: WriteContext;
let victim: S3Client;
let gateway: Gateway;
const clients: S3Client[] = [];
/** Donors per chunk size and plaintext size: another object (plugin PutObject, same keyring, another data key). */
const donors = new Map<string, Stored>();
/** Per write path, the sizes whose header does not record the plaintext size. */
const unrecordedSizes = new Map<string, number[]>();

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'es-adv-search-'));
  mkdirSync(join(tmp, 'state'));
  keyringFile = writeKeyringFile(tmp);
  const pluginClients = new Map<string, S3Client>();
  const pluginFor = (chunkSize: number, old: boolean) => {
    const id = `${chunkSize}/${old}`;
    let client = pluginClients.get(id);
    if (!client) {
      client = encryptedClient({ keyring: old ? oldKeyring() : victimKeyring(), chunkSize }).client;
      pluginClients.set(id, client);
      clients.push(client);
    }
    return client;
  };
  ctx = {
    bucket: bucket.name,
    plain: bucket.client,
    plugin: (c) => pluginFor(c, false),
    oldPlugin: (c) => pluginFor(c, true),
    keyringFile,
    tmp,
  };
  // The victim reads with the default settings but the small chunk size (one request per ranged read of most objects).
  victim = encryptedClient({ keyring: victimKeyring(), chunkSize: SMALL }).client;
  clients.push(victim);
  gateway = await startGateway(bucket.name, SMALL);
  const jobs = [SMALL, DEFAULT].flatMap((C) => sizesFor(C).map((P) => [C, P] as const));
  await mapLimit(jobs, 8, async ([C, P]) => {
    const Key = `donor/${C}/${P}`;
    await ctx.plugin(C).send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: plaintextOf('donor', P) }));
    donors.set(`${C}/${P}`, await getStored(bucket.client, bucket.name, Key));
  });
});

afterAll(async () => {
  await gateway?.close();
  for (const client of clients) client.destroy();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  const { run, accepted } = tally.record('S3 objects');
  console.log(`adversary search (S3 objects): ${run} cases, ${accepted} mutations accepted`);
});

/** One stored stream to read: the original or a mutation of it. */
interface Target {
  readonly size: number;
  readonly kind: string;
  readonly instance: string;
  readonly key: string;
  readonly mutated: boolean;
}

/** The representative of a kind for the sampled CLI reads: a multiple-of-C size, the instance nearest the end. */
function representative(targets: readonly Target[], kind: string, C: number): Target | undefined {
  const ofKind = targets.filter((t) => t.kind === kind);
  for (const P of [2 * C, 3 * C + 5, C, 0]) {
    const here = ofKind.filter((t) => t.size === P);
    if (here.length > 0) return here[here.length - 1];
  }
  return ofKind[ofKind.length - 1];
}

async function readEverything(path: WritePath, targets: readonly Target[], originals: Map<number, Stored>) {
  const C = path.chunkSize;
  const plaintext = (P: number) => plaintextOf(path.name, P);
  const add = (t: Target, read: string, judgement: Judgement) =>
    tally.add({ path: path.name, size: t.size, kind: t.kind, instance: t.instance, read }, judgement);

  const tasks: (() => Promise<void>)[] = [];
  for (const t of targets) {
    const ranges = rangesFor(t.size, C);
    const original = plaintext(t.size);
    const recorded = recordsSize((originals.get(t.size) as Stored).metadata);
    for (const [read, name] of PLUGIN_READS) {
      const spec: RangeSpec = ranges[name];
      tasks.push(async () => {
        const o = await pluginGet(victim, bucket.name, t.key, rangeHeader(spec));
        add(t, read, judgeRead(o, original, expectedFor(spec, t.size), recorded));
      });
    }
    if (recorded) {
      tasks.push(async () => add(t, HEAD_READ, judgeHead(await pluginHead(victim, bucket.name, t.key), t.size)));
    }
    for (const [read, name] of GATEWAY_READS) {
      const spec: RangeSpec = ranges[name];
      tasks.push(async () => {
        const o = await gateway.get(`/${t.key.split('/').map(encodeURIComponent).join('/')}`, rangeHeader(spec));
        add(t, read, judgeHttp(o, original, expectedFor(spec, t.size), spec.kind !== 'whole'));
      });
    }
  }

  // The CLI, sampled, in parallel with the in-process reads: one verify of every kind's representative
  // (and the controls), and one get per sampled kind.
  const sampled = KINDS.map((kind) => representative(targets, kind, C)).filter((t): t is Target => !!t);
  const controls = targets.filter((t) => t.kind === CONTROL);
  const toVerify = [...new Set([...controls, ...sampled])];
  const pathIndex = WRITE_PATHS.indexOf(path);
  const cli = async () => {
    const verified = await cliVerify(
      keyringFile,
      bucket.name,
      toVerify.map((t) => t.key),
    );
    for (const t of toVerify) {
      const r = verified.results.get(t.key);
      const judgement: Judgement = !r
        ? { verdict: 'violation', detail: `no result (exit ${verified.exit}: ${verified.stderr.trim().slice(0, 200)})` }
        : r.ok
          ? t.mutated
            ? {
                verdict: 'violation',
                detail: `verify reports OK, ${r.bytes} bytes authenticated (original: ${t.size})`,
              }
            : r.bytes === t.size
              ? { verdict: 'intact', detail: 'OK' }
              : { verdict: 'violation', detail: `verify reports ${r.bytes} bytes (original: ${t.size})` }
          : { verdict: t.mutated ? 'refused' : 'violation', detail: r.error ?? 'FAIL' };
      add(t, VERIFY_READ, judgement);
    }
    if (toVerify.some((t) => t.mutated) && verified.exit === 0) {
      throw new Error('CLI verify exited 0 although mutated objects were among its arguments');
    }
    const getKinds = cliGetKinds(pathIndex);
    await mapLimit(
      sampled.filter((t) => getKinds.includes(t.kind)),
      2,
      async (t) => {
        const out = join(tmp, `get-${pathIndex}-${t.key.replace(/\W/g, '_')}`);
        const got = await cliGet(keyringFile, bucket.name, t.key, out);
        add(t, CLI_GET_WHOLE, judgeStrict(got, plaintext(t.size), t.mutated));
      },
    );
    const cut = representative(targets, 'cut at boundary +40', C);
    if (cut) {
      const spec = rangesFor(cut.size, C).from;
      const out = join(tmp, `get-range-${pathIndex}`);
      const got = await cliGet(keyringFile, bucket.name, cut.key, out, rangeHeader(spec));
      add(
        cut,
        CLI_GET_RANGE,
        got.exit === 0
          ? judgeRead(
              { kind: 'data', data: got.output ?? Buffer.alloc(0) },
              plaintext(cut.size),
              expectedFor(spec, cut.size),
            )
          : got.output
            ? { verdict: 'violation', detail: `exit ${got.exit} but left a ${got.output.length}-byte output file` }
            : { verdict: 'refused', detail: `exit ${got.exit}: ${got.stderr.trim().slice(0, 160)}` },
      );
    }
  };
  await Promise.all([mapLimit(tasks, 24, (task) => task()), cli()]);
}

async function searchPath(path: WritePath): Promise<void> {
  const C = path.chunkSize;
  const slug = path.name.replace(/[^a-zA-Z0-9]+/g, '-').toLowerCase();
  const originals = new Map<number, Stored>();
  const targets: Target[] = [];

  await mapLimit(sizesFor(C), 4, async (P) => {
    const key = `${slug}/${P}/original`;
    await path.write(ctx, key, plaintextOf(path.name, P));
    const stored = await getStored(bucket.client, bucket.name, key);
    const l = layout(P, C);
    if (stored.body.length !== l.S)
      throw new Error(`${path.name} stored ${stored.body.length} bytes for ${P}, FORMAT.md §8 says ${l.S}`);
    originals.set(P, stored);
    targets.push({ size: P, kind: CONTROL, instance: 'unmutated', key, mutated: false });
  });

  const mutated: { target: Target; stored: Stored }[] = [];
  for (const P of sizesFor(C)) {
    const original = originals.get(P) as Stored;
    const donor = donors.get(`${C}/${P}`) as Stored;
    const l: Layout = layout(P, C);
    const edits: { kind: string; instance: string; make: () => Stored }[] = [
      ...bodyMutations(l).map((m: BodyMutation) => ({
        kind: m.kind,
        instance: m.instance,
        make: () => ({ body: m.apply(original.body, { foreign: donor.body }), metadata: original.metadata }),
      })),
      ...(metadataSizes(C).includes(P) ? METADATA_MUTATIONS : []).map((m: MetadataMutation) => ({
        kind: m.kind,
        instance: 'metadata',
        make: () => ({
          body: original.body,
          metadata: withDetached(
            original.metadata,
            m.apply(detachedOf(original.metadata), {
              other: detachedOf(donor.metadata) as Required<ReturnType<typeof detachedOf>>,
              otherHeldKeyId: 'k-old',
            }),
          ),
        }),
      })),
    ];
    edits.forEach((edit, i) => {
      const stored = edit.make();
      if (stored.body.equals(original.body) && JSON.stringify(stored.metadata) === JSON.stringify(original.metadata)) {
        throw new Error(`mutation ${edit.kind} (${edit.instance}) left the ${P}-byte object unchanged`);
      }
      const key = `${slug}/${P}/m${i}`;
      mutated.push({ target: { size: P, kind: edit.kind, instance: edit.instance, key, mutated: true }, stored });
    });
  }
  await mapLimit(mutated, 16, ({ target, stored }) => putStored(bucket.client, bucket.name, target.key, stored));
  targets.push(...mutated.map((m) => m.target));
  unrecordedSizes.set(
    path.name,
    sizesFor(C).filter((P) => !recordsSize((originals.get(P) as Stored).metadata)),
  );
  await readEverything(path, targets, originals);
}

describe.each(WRITE_PATHS.map((p, i) => ({ ...p, i })))('$name', (path) => {
  const state: { failure?: unknown } = {};
  beforeAll(async () => {
    try {
      await searchPath(path);
    } catch (error) {
      state.failure = error;
    }
  });

  if (path.shouldRecordSize) {
    test('the header records the plaintext size', () => {
      if (state.failure) throw state.failure;
      expect(unrecordedSizes.get(path.name)).toEqual([]);
    });
  }

  test('every (size × mutation × in-process and gateway read) case ran', () => {
    if (state.failure) throw state.failure;
    const reads = [...PLUGIN_READS, ...GATEWAY_READS].map(([name]) => name);
    const expected = sizesFor(path.chunkSize).reduce(
      (sum, P) =>
        sum +
        (1 +
          bodyMutations(layout(P, path.chunkSize)).length +
          (metadataSizes(path.chunkSize).includes(P) ? METADATA_MUTATIONS.length : 0)) *
          reads.length,
      0,
    );
    expect(tally.cases.filter((c) => c.path === path.name && reads.includes(c.read)).length).toBe(expected);
  });

  describe.each(KINDS)('%s', (kind) => {
    test.each(READS)('%s', (read) => expectClean(tally.select(path.name, kind, read), state.failure));
    if (cliGetKinds(path.i).includes(kind)) {
      test(CLI_GET_WHOLE, () => expectClean(tally.select(path.name, kind, CLI_GET_WHOLE), state.failure));
    }
    if (kind === 'cut at boundary +40') {
      test(CLI_GET_RANGE, () => expectClean(tally.select(path.name, kind, CLI_GET_RANGE), state.failure));
    }
  });
});
