import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeviceKeys } from '../../server/device-keys.js';
import { DeviceKey, KeyUnavailable, type KeptKey } from '../../sw/device-key.js';
import type { StoredRequest } from '../../sw/entry.js';
import { decodeRequest, encodeRequest } from '../../sw/stored-request.js';

const KEY_URL = 'https://app.test/outbox-key';

const request = (body: ArrayBuffer | null): StoredRequest => ({
  headers: [['content-type', 'application/octet-stream'], ['x-note', 'marker-header']],
  body,
  credentials: 'same-origin',
  mode: 'same-origin',
  redirect: 'follow',
  referrer: 'https://app.test/',
  base: { name: 'Oat milk' },
});

/**
 * A worker's DeviceKey talking to sw-outbox/server's DeviceKeys, through `answer` as the
 * key endpoint would, with `session` the signed-in user (mutable) and the kept public keys in a Map.
 */
function deviceOf(keys: DeviceKeys, session: { user: string | undefined }, kept = new Map<string, KeptKey>()) {
  const requests: string[] = [];
  const device = new DeviceKey({
    url: KEY_URL,
    clientId: async () => 'device-1',
    credentials: async () => [],
    keptKey: async (user) => kept.get(user),
    keepKey: async (key) => void kept.set(key.user, key),
    dropKey: async (user) => void kept.delete(user),
    fetch: async (req) => {
      requests.push(`${req.method} ${new URL(req.url).search}`);
      const text = await req.text();
      const reply = await keys.answer({ method: req.method, query: new URL(req.url).searchParams, body: text ? JSON.parse(text) : null, user: session.user, outboxUser: req.headers.get('outbox-user') ?? undefined });
      return new Response(reply.status === 204 ? null : String(reply.body), { status: reply.status, headers: reply.headers });
    },
  });
  return { device, requests, kept };
}

test('a request survives encoding byte for byte: every byte value, an empty body, no body', () => {
  const all = new Uint8Array(256).map((_, i) => i).buffer;
  for (const body of [all, new ArrayBuffer(0), null]) {
    const decoded = decodeRequest(encodeRequest(request(body)));
    assert.deepEqual(decoded, request(body));
  }
});

test('a write sealed to the device key opens with the private key from the key endpoint, and holds nothing readable', async () => {
  const keys = new DeviceKeys();
  const { device, requests } = deviceOf(keys, { user: 'ana' });
  const body = new TextEncoder().encode('marker-body ✓').buffer as ArrayBuffer;
  const sealed = await device.sealRequest(request(body), 'ana');
  const bytes = new Uint8Array(sealed.sealed.data);
  const text = new TextDecoder('latin1').decode(bytes);
  assert.ok(!text.includes('marker'), 'no marker in the ciphertext');
  assert.equal(sealed.sealed.iv.byteLength, 12);
  assert.deepEqual(await device.openRequest(sealed), request(body));
  assert.deepEqual(requests, ['POST ', `GET ?kid=${sealed.sealed.kid}`], 'the public key once, the private key once');
  // A second write reuses both keys: no more requests, and a fresh IV.
  const again = await device.sealRequest(request(body), 'ana');
  assert.notDeepEqual(new Uint8Array(again.sealed.iv), new Uint8Array(sealed.sealed.iv));
  await device.openRequest(again);
  assert.equal(requests.length, 2);
});

test('a device that kept the public key seals with no network; only the private key needs it', async () => {
  const keys = new DeviceKeys();
  const online = deviceOf(keys, { user: 'ana' });
  await online.device.prepare('ana');
  // A restarted worker (a new DeviceKey) on the same device, offline.
  const offline = new DeviceKey({ url: KEY_URL, clientId: async () => 'device-1', credentials: async () => [], keptKey: async (user) => online.kept.get(user), keepKey: async () => {}, dropKey: async () => {}, fetch: () => Promise.reject(new TypeError('Failed to fetch')) });
  const sealed = await offline.sealRequest(request(null), 'ana');
  await assert.rejects(offline.openRequest(sealed), (error: unknown) => error instanceof KeyUnavailable && error.why === 'offline');
  assert.deepEqual(await online.device.openRequest(sealed), request(null));
});

test('another user, a signed-out session and a revoked key do not open a write', async () => {
  const keys = new DeviceKeys();
  const session: { user: string | undefined } = { user: 'ana' };
  const ana = deviceOf(keys, session);
  const sealed = await ana.device.sealRequest(request(null), 'ana');
  const reason = async () => {
    const fresh = deviceOf(keys, session, ana.kept).device; // no private key in memory
    return fresh.openRequest(sealed).then(() => 'opened', (error: KeyUnavailable) => error.why);
  };
  session.user = 'ben';
  assert.equal(await reason(), 'revoked', "ben is given no key of ana's: as unknown as a revoked one");
  session.user = undefined;
  assert.equal(await reason(), 'refused', 'no session: 401, so the write waits for sign-in');
  session.user = 'ana';
  assert.equal(await reason(), 'opened');
  assert.equal(await keys.revoke('ana', { device: 'device-1' }), 1);
  assert.equal(await reason(), 'revoked', 'crypto-erased');
});

test('DeviceKey.revoke deletes the key on the server and on the device; the next write gets a new key', async () => {
  const keys = new DeviceKeys();
  const { device, kept } = deviceOf(keys, { user: 'ana' });
  const first = await device.sealRequest(request(null), 'ana');
  await device.revoke('ana');
  assert.equal(kept.size, 0);
  assert.equal(await keys.privateKey('ana', first.sealed.kid), undefined);
  const second = await device.sealRequest(request(null), 'ana');
  assert.notEqual(second.sealed.kid, first.sealed.kid);
  assert.deepEqual(await device.openRequest(second), request(null));
});

test('the key endpoint answers bad requests with a problem that says how to fix them, never cached', async () => {
  const keys = new DeviceKeys();
  const ask = (method: string, query: string, body: unknown, outboxUser?: string) => keys.answer({ method, query: new URLSearchParams(query), body, user: 'ana', outboxUser });
  for (const [reply, status, words] of [
    [await ask('POST', '', {}), 400, 'device'],
    [await ask('GET', '', null), 400, 'kid'],
    [await ask('PUT', 'kid=x', null), 405, 'POST, GET'],
    [await ask('POST', '', { device: 'd' }, 'ben'), 403, 'ben'],
    [await ask('GET', 'kid=unknown', null), 404, 'revoked'],
  ] as const) {
    assert.equal(reply.status, status);
    assert.match(String(reply.body), new RegExp(words));
    assert.equal(reply.headers['cache-control'], 'no-store');
  }
  const issued = await ask('POST', '', { device: 'd' });
  assert.equal(issued.status, 200);
  const { kid, publicKey } = JSON.parse(String(issued.body)) as { kid: string; publicKey: { d?: string } };
  assert.equal(publicKey.d, undefined, 'the public half only');
  assert.equal(JSON.parse(String((await ask('POST', '', { device: 'd' })).body)).kid, kid, 'the same device, the same key');
});
