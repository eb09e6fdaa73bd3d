import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkTodoBackendPromises } from '../support/todo-backend-promises.js';
import { TodoApi } from '../support/todo-api.js';

let api: TodoApi;
before(async () => {
  api = await TodoApi.start();
});
after(() => api.close());

test('the Todo-Backend promises hold against sw-outbox/server\'s Express middleware with its defaults, for a client that sends no keys', async () => {
  const results = await checkTodoBackendPromises(`${api.url}/todos`);
  assert.deepEqual(results.filter((result) => !result.held), []);
  assert.equal(results.length, 16);
  assert.ok(api.writes.every((write) => write.key === undefined), 'no key was sent: the middleware processed them as they came');
});
