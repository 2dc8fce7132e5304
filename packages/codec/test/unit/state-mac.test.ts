import { createHmac, hkdfSync } from 'node:crypto';
import { LocalKeyring } from '../../src/crypto/local-keyring';
import { createStreamCipher, openStreamCipher } from '../../src/crypto/stream-cipher';
import { BACKENDS, backend, C, filler, hex } from '../helpers';

/**
 * StreamCipher.stateMac: HMAC-SHA256 under stateKey = HKDF(DK, SID,
 * "encrypted-stream v1 state", 32) over u8(len(purpose)) || purpose || message
 * (FORMAT.md §4), recomputed here with node:crypto alone from the unwrapped key.
 */
describe.each(BACKENDS)('stateMac (%s backend)', (name) => {
  const masterKey = new Uint8Array(32).fill(5);

  async function fixture() {
    const on = await backend(name);
    const keyring = new LocalKeyring({ 'state-key': masterKey }, 'state-key', on);
    const cipher = await createStreamCipher({ keyring, chunkSize: C, backend: on });
    const { header } = cipher;
    const dataKey = await keyring.unwrap(header, header.streamBytes);
    const stateKey = Buffer.from(
      hkdfSync('sha256', dataKey, header.stream.streamId, Buffer.from('encrypted-stream v1 state'), 32),
    );
    return { on, keyring, cipher, stateKey };
  }

  const independent = (stateKey: Buffer, purpose: string, message: Uint8Array) =>
    createHmac('sha256', stateKey)
      .update(Uint8Array.of(Buffer.byteLength(purpose)))
      .update(purpose)
      .update(message)
      .digest('hex');

  test('matches the documented construction, and a reopened stream computes the same', async () => {
    const { on, keyring, cipher, stateKey } = await fixture();
    const message = filler(1000, 3);
    expect(hex(cipher.stateMac('a purpose', message))).toBe(independent(stateKey, 'a purpose', message));
    const reopened = await openStreamCipher(cipher.header, { keyring, backend: on });
    expect(hex(reopened.stateMac('a purpose', message))).toBe(hex(cipher.stateMac('a purpose', message)));
  });

  test('verifies only the same purpose, message and stream', async () => {
    const { cipher } = await fixture();
    const other = (await fixture()).cipher;
    const message = filler(64, 4);
    const mac = cipher.stateMac('token', message);
    expect(cipher.verifyStateMac('token', message, mac)).toBe(true);
    expect(cipher.verifyStateMac('tokens', message, mac)).toBe(false);
    expect(cipher.verifyStateMac('token', filler(64, 5), mac)).toBe(false);
    expect(cipher.verifyStateMac('token', message, mac.subarray(0, 31))).toBe(false);
    const flipped = Uint8Array.from(mac);
    flipped[31] = (flipped[31] as number) ^ 1;
    expect(cipher.verifyStateMac('token', message, flipped)).toBe(false);
    expect(other.verifyStateMac('token', message, mac)).toBe(false); // another data key
  });

  test('the purpose must be 1 … 255 bytes', async () => {
    const { cipher } = await fixture();
    expect(() => cipher.stateMac('', new Uint8Array(0))).toThrow(RangeError);
    expect(() => cipher.stateMac('x'.repeat(256), new Uint8Array(0))).toThrow(RangeError);
  });
});
