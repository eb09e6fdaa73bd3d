/** Writes reach the store in the order their fetch events came, whichever body is read first (sw/arrival-order.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { harness, ORIGIN } from '../support/outbox-harness.js';

test('a write whose body is read last is still stored before the writes that came after it', async () => {
  const h = harness();
  h.state.online = false;
  let release!: () => void;
  const slowBody = new ReadableStream<Uint8Array>({
    start: (controller) => {
      release = () => {
        controller.enqueue(new TextEncoder().encode('{"n":1}'));
        controller.close();
      };
    },
  });
  const slow = new Request(`${ORIGIN}/api/items`, { method: 'POST', body: slowBody, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
  const first = h.outbox.handle(slow, () => {});
  const second = h.write('/api/items', { n: 2 });
  // The second write's body is read on the next turns of the event loop; then it waits for the first.
  for (let turn = 0; turn < 50; turn++) await new Promise(setImmediate);
  assert.deepEqual(h.steps.filter((step) => step.startsWith('add')), [], 'nothing stored before the first write is');
  release();
  assert.deepEqual([(await first).status, (await second).status], [202, 202]);
  h.state.online = true;
  await h.outbox.replay('page');
  await h.settle();
  const sent = await Promise.all(h.sent.map(async (request) => `${request.headers.get('Outbox-Sequence')} ${await request.text()}`));
  assert.deepEqual(sent, ['1 {"n":1}', '2 {"n":2}']);
});
