import type { Page } from '@playwright/test';
import { expect, openApp, test } from '../support/fixtures.js';
import { goOnline } from '../support/online.js';

const OPTIONS = { include: ['/api/'], forms: true };
const PHOTO = { name: 'photo.txt', mimeType: 'text/plain', buffer: Buffer.from('pretend these are the bytes of a photo\n') };

async function submitForm(page: Page, note: string): Promise<void> {
  await page.getByLabel('Note').fill(note);
  await page.getByLabel('Photo').setInputFiles(PHOTO);
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Send' }).click()]);
}

test('online, a form post goes through the outbox stamped with a key, and the form’s own answer is shown', async ({ context, server }) => {
  const page = await openApp(context, server, OPTIONS);
  await page.goto(`${server.url}/form.html`);
  await submitForm(page, 'online');
  expect(await page.locator('body').textContent()).toContain('"committed":1');
  expect(server.commits).toHaveLength(1);
  expect(server.commits[0]?.key).toMatch(/^"[0-9a-f-]{36}"$/);
  expect(server.commits[0]?.body).toContain('online');
});

test('offline, a form post with a file part is saved on the device, the person is told so, and it reaches the server once with the same bytes', async ({ context, server }) => {
  const app = await openApp(context, server, OPTIONS);
  const page = await context.newPage();
  await page.goto(`${server.url}/form.html`);
  await context.setOffline(true);
  await submitForm(page, 'offline');
  await expect(page.getByRole('heading', { name: 'Saved on this device' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Back to the page you were on' })).toHaveAttribute('href', `${server.url}/form.html`);

  const [waiting] = await app.evaluate(() => window.outbox.pending({ bodies: true }).then((writes) => writes.map((write) => ({ ...write, body: new TextDecoder().decode(write.body!) }))));
  expect(waiting).toMatchObject({ method: 'POST', url: `${server.url}/api/forms`, contentType: expect.stringMatching(/^multipart\/form-data; boundary=/) });
  expect(waiting!.body).toContain(PHOTO.buffer.toString());

  await goOnline(context);
  await app.evaluate(() => window.outbox.replay());
  await server.waitForCommits(1);
  const [arrival] = server.arrivals;
  expect(server.arrivals).toHaveLength(1);
  expect(arrival!.body).toBe(waiting!.body);
  expect(arrival!.headers['content-type']).toBe(waiting!.contentType);
});

test('without forms, form posts are left to the browser', async ({ context, server }) => {
  await openApp(context, server, { include: ['/api/'] });
  const page = await context.newPage();
  await page.goto(`${server.url}/form.html`);
  await submitForm(page, 'plain');
  expect(await page.locator('body').textContent()).toContain('Idempotency-Key is missing');
});
