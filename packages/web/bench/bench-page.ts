/**
 * The bench page's script (bundled for Chromium): decrypts a body with the
 * codec's libsodium WebAssembly backend, and times fetches from first
 * request to first decoded byte, through the Service Worker or the gateway.
 */
import { LocalKeyring } from '@encrypted-stream/codec';
import {
  type DetachedHeader,
  fromDetachedHeader,
  openStreamCipher,
  RangeDecoder,
} from '@encrypted-stream/codec/low-level';
import { saveKey } from '../src';
import { registerWorker } from '../test/fixtures/register-worker';

const fromHex = (hex: string) => new Uint8Array((hex.match(/../g) ?? []).map((b) => Number.parseInt(b, 16)));

const bench = {
  async saveKey(hex: string): Promise<void> {
    await saveKey(fromHex(hex), { keyId: 'page-key' });
  },
  registerWorker,
  /** Decrypts /body.bin `runs` times in 1 MiB pieces; returns ms per run and the backend's name. */
  async decrypt(keyHex: string, detached: DetachedHeader, plaintextSize: number, runs: number) {
    const body = new Uint8Array(await (await fetch('/body.bin')).arrayBuffer());
    const keyring = LocalKeyring.single('page-key', fromHex(keyHex));
    const cipher = await openStreamCipher(fromDetachedHeader(detached), { keyring });
    const times: number[] = [];
    for (let run = 0; run < runs; run++) {
      const t0 = performance.now();
      const decoder = new RangeDecoder(cipher, { plaintextSize });
      let out = 0;
      for (let at = 0; at < body.length; at += 1 << 20) {
        for (const piece of decoder.push(body.subarray(at, at + (1 << 20)))) out += piece.length;
      }
      for (const piece of decoder.finish()) out += piece.length;
      times.push(performance.now() - t0);
      if (out !== plaintextSize) throw new Error(`decrypted ${out} of ${plaintextSize} bytes`);
    }
    return { times, backend: cipher.backend.name };
  },
  /** Milliseconds from sending `GET url` with `Range: bytes=<start>-` to the first body bytes. */
  async firstByte(url: string, start: number): Promise<number> {
    const t0 = performance.now();
    const response = await fetch(url, { headers: { range: `bytes=${start}-` }, cache: 'no-store' });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    const elapsed = performance.now() - t0;
    await reader.cancel();
    if (response.status !== 206 || !value?.length) throw new Error(`${url}: ${response.status}`);
    return elapsed;
  },
};

/** What the bench script calls in the page. */
export type BenchPage = typeof bench;

(globalThis as unknown as { bench: BenchPage }).bench = bench;
