/**
 * The promises a Todo-Backend API makes to its clients, in our own words and code: the
 * public Todo-Backend spec checks the same behaviours. Self-contained (it uses only
 * fetch), so that it runs in Node, against the server directly, and in a page, through
 * the outbox worker. Resolves with each promise and whether it held.
 */
export async function checkTodoBackendPromises(root: string): Promise<{ promise: string; held: boolean; why?: string }[]> {
  type Todo = { title: string; completed: boolean; url: string; order?: number };
  const call = async (method: string, url: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
    const response = await fetch(url, { method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? null : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };
  const ok = (status: number) => status >= 200 && status < 300;
  const check = (held: boolean, why: string) => {
    if (!held) throw new Error(why);
  };
  const fresh = async () => check(ok((await call('DELETE', root)).status), 'DELETE of the root failed');
  const create = async (todo: object): Promise<Todo> => {
    const { status, json } = await call('POST', root, todo);
    check(ok(status), `POST answered ${status}`);
    return json as Todo;
  };
  const promises: [string, () => Promise<void>][] = [
    ['the root answers a GET', async () => check(ok((await call('GET', root)).status), 'GET failed')],
    ['the root answers a POST with the todo posted', async () => check((await create({ title: 'a todo' })).title === 'a todo', 'the answer is not the todo')],
    ['the root answers a DELETE', fresh],
    ['after a DELETE, the root lists no todos', async () => {
      await fresh();
      const { json } = await call('GET', root);
      check(Array.isArray(json) && json.length === 0, `the list is ${JSON.stringify(json)}`);
    }],
    ['a todo posted appears in the list', async () => {
      await fresh();
      await create({ title: 'walk the dog' });
      const { json } = await call('GET', root);
      check((json as Todo[]).some((todo) => todo.title === 'walk the dog'), 'not listed');
    }],
    ['a new todo is not completed', async () => check((await create({ title: 'new' })).completed === false, 'completed from the start')],
    ['a new todo has a url', async () => check(typeof (await create({ title: 'with a url' })).url === 'string', 'no url')],
    ['a new todo\'s url answers with that todo', async () => {
      const todo = await create({ title: 'fetch me' });
      check(((await call('GET', todo.url)).json as Todo).title === 'fetch me', 'not the same todo');
    }],
    ['a todo in the list leads to itself by its url', async () => {
      await fresh();
      await create({ title: 'navigate' });
      const [listed] = (await call('GET', root)).json as Todo[];
      check(((await call('GET', listed!.url)).json as Todo).title === 'navigate', 'not the listed todo');
    }],
    ['a PATCH to its url changes its title', async () => {
      const todo = await create({ title: 'before' });
      check(((await call('PATCH', todo.url, { title: 'after' })).json as Todo).title === 'after', 'title unchanged');
    }],
    ['a PATCH to its url changes its completedness', async () => {
      const todo = await create({ title: 'tick' });
      check(((await call('PATCH', todo.url, { completed: true })).json as Todo).completed === true, 'not completed');
    }],
    ['a change is there when the todo is read again', async () => {
      const todo = await create({ title: 'persist' });
      await call('PATCH', todo.url, { title: 'persisted', completed: true });
      const again = (await call('GET', todo.url)).json as Todo;
      check(again.title === 'persisted' && again.completed === true, JSON.stringify(again));
    }],
    ['a DELETE to its url removes it', async () => {
      await fresh();
      const todo = await create({ title: 'gone' });
      check(ok((await call('DELETE', todo.url)).status), 'DELETE failed');
      check(((await call('GET', root)).json as Todo[]).length === 0, 'still listed');
    }],
    ['a todo can be made with an order', async () => check((await create({ title: 'ordered', order: 523 })).order === 523, 'order not kept')],
    ['a PATCH changes its order', async () => {
      const todo = await create({ title: 'reorder', order: 10 });
      check(((await call('PATCH', todo.url, { order: 95 })).json as Todo).order === 95, 'order unchanged');
    }],
    ['a changed order is there when read again', async () => {
      const todo = await create({ title: 'reordered', order: 10 });
      await call('PATCH', todo.url, { order: 38 });
      check(((await call('GET', todo.url)).json as Todo).order === 38, 'order not kept');
    }],
  ];
  const results: { promise: string; held: boolean; why?: string }[] = [];
  for (const [promise, run] of promises) {
    try {
      await run();
      results.push({ promise, held: true });
    } catch (error) {
      results.push({ promise, held: false, why: error instanceof Error ? error.message : String(error) });
    }
  }
  return results;
}
