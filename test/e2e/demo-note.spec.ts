import { expect, openDemo, replayNow, seeded, test } from '../support/demo.js';
import { goOnline } from '../support/online.js';

// The shared note is a CRDT: its writes are Yjs updates, merged on the server in any
// order, any number of times. Two people type in it offline, then reconnect.
for (const first of ['A', 'B'] as const) {
  test(`A and B type in the same note offline; ${first} reconnects first: both texts are in the server’s note and on both screens, identical`, async ({ browser, context, demo }) => {
    const { listId } = seeded(demo);
    const other = await browser.newContext();
    const people = { A: { context, page: await openDemo(context, demo) }, B: { context: other, page: await openDemo(other, demo) } };
    const { A, B } = people;

    await A.context.setOffline(true);
    await B.context.setOffline(true);
    await A.page.locator('#note').fill('Buy oat milk');
    await B.page.locator('#note').fill('Sam pays');
    // Each update is kept in its person's outbox (typing is sent in bursts).
    for (const { page } of [A, B]) await expect.poll(() => page.evaluate(() => window.outbox.snapshot().then((s) => s.counts.pending))).toBe(1);

    const order = first === 'A' ? [A, B] : [B, A];
    for (const person of order) {
      await goOnline(person.context);
      await replayNow(person.page);
      await expect.poll(() => person.page.evaluate(() => window.outbox.snapshot().then((s) => s.counts.pending))).toBe(0);
    }
    const onServer = demo.api.model.noteText(listId);
    expect(onServer).toContain('Buy oat milk');
    expect(onServer).toContain('Sam pays');
    expect(onServer).toHaveLength('Buy oat milk'.length + 'Sam pays'.length);
    for (const { page } of [A, B]) {
      await page.evaluate(() => window.groceries.reload());
      await expect(page.locator('#note')).toHaveValue(onServer);
    }
    await other.close();
  });
}
