import { type OpenedObject, OpenedObjects } from '../../src/opened-objects';

/** A fake opened object expiring at `expiresAt`. */
const fake = (id: string, n: number, expiresAt?: number) => ({ id, n, expiresAt }) as unknown as OpenedObject;

function setup(capacity = 2) {
  let clock = 1_000_000;
  const calls: { id: string; previous: OpenedObject | undefined }[] = [];
  let fail = false;
  const objects = new OpenedObjects(
    async (id, previous) => {
      calls.push({ id, previous });
      if (fail) throw new Error('resolve failed');
      return fake(id, calls.length, clock + 60_000);
    },
    { capacity, marginMs: 10_000, now: () => clock },
  );
  return {
    objects,
    calls,
    tick: (ms: number) => {
      clock += ms;
    },
    failNext: (value: boolean) => {
      fail = value;
    },
  };
}

test('concurrent gets share one open; later gets are served from the cache', async () => {
  const { objects, calls } = setup();
  const [a, b] = await Promise.all([objects.get('x'), objects.get('x')]);
  expect(a).toBe(b);
  expect(await objects.get('x')).toBe(a);
  expect(calls).toHaveLength(1);
});

test('an entry within the margin of its expiry is opened anew, from the previous one', async () => {
  const { objects, calls, tick } = setup();
  const first = await objects.get('x');
  tick(49_000);
  expect(await objects.get('x')).toBe(first);
  tick(2_000); // 9 s left: inside the 10 s margin
  const second = await objects.get('x');
  expect(second).not.toBe(first);
  expect(calls.map((c) => c.previous)).toEqual([undefined, first]);
});

test('a failed open fails its callers and is not cached', async () => {
  const { objects, calls, failNext } = setup();
  failNext(true);
  await expect(Promise.all([objects.get('x'), objects.get('x')])).rejects.toThrow('resolve failed');
  expect(calls).toHaveLength(1);
  failNext(false);
  await expect(objects.get('x')).resolves.toBeDefined();
  expect(calls).toHaveLength(2);
});

test('forget drops an entry; at most `capacity` entries, least recently used out first', async () => {
  const { objects, calls } = setup(2);
  const x = await objects.get('x');
  await objects.get('y');
  await objects.get('x'); // x is now the most recent
  await objects.get('z'); // evicts y
  expect(calls.map((c) => c.id)).toEqual(['x', 'y', 'z']);
  expect(await objects.get('x')).toBe(x);
  await objects.get('y');
  expect(calls.map((c) => c.id)).toEqual(['x', 'y', 'z', 'y']);
  expect(await objects.forget('x')).toBe(x);
  await objects.get('x');
  expect(calls).toHaveLength(5);
});

test('reopen after a refusal: requests refused together share one new open; a newer entry is kept', async () => {
  const { objects, calls } = setup();
  const first = await objects.get('a');
  const reopened = await Promise.all([
    objects.reopen('a', first, true),
    objects.reopen('a', first, true),
    objects.reopen('a', first, false),
  ]);
  expect(calls.map((c) => c.previous)).toEqual([undefined, first]);
  expect(new Set(reopened).size).toBe(1);
  expect(reopened[0]).not.toBe(first);
  // A later refusal of the new entry opens once more, without a previous entry when told not to reuse it.
  await objects.reopen('a', reopened[0] as OpenedObject, false);
  expect(calls.map((c) => c.previous)).toEqual([undefined, first, undefined]);
});
