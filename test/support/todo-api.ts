import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { idempotency } from '../../server/express.js';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface Todo {
  id: number;
  url: string;
  title: string;
  completed: boolean;
  order: number;
}

export interface Note {
  id: number;
  url: string;
  todo: number;
  text: string;
}

/**
 * A REST todo API in the Todo-Backend style, whose server makes the ids: `POST /todos`
 * answers 201 with `Location` and the todo with its `id` and its own `url`; members are
 * read, patched, replaced and deleted at that URL; `/todos/:id/notes` holds a todo's notes.
 * Unknown members are dropped, as such APIs do. Writes go through sw-outbox/server's
 * Express middleware with its defaults: keyless writes are processed as they are.
 * It also serves the apps under test (test/fixtures/rest-apps/), their libraries from
 * node_modules, and the drop-in worker.
 */
export class TodoApi {
  readonly todos = new Map<number, Todo>();
  readonly notes = new Map<number, Note>();
  /** Every write that reached the API, as `METHOD path`, with its key (undefined: none). */
  readonly writes: { line: string; key: string | undefined }[] = [];
  #lastTodo = 0;
  #lastNote = 0;
  #server: Server | undefined;
  #app: express.Express | undefined;
  #port = 0;
  url = '';

  static async start(): Promise<TodoApi> {
    const api = new TodoApi();
    const app = express();
    app.use('/todos', express.json(), idempotency({ onKeyless: () => {} }));
    app.use((req, _res, next) => {
      if (req.method !== 'GET') api.writes.push({ line: `${req.method} ${req.path}`, key: req.get('idempotency-key') });
      next();
    });
    api.#routes(app);
    const files: Record<string, string> = {
      '/backbone.html': 'test/fixtures/rest-apps/backbone.html',
      '/fetch.html': 'test/fixtures/rest-apps/fetch.html',
      '/vendor/jquery.js': 'node_modules/jquery/dist/jquery.min.js',
      '/vendor/underscore.js': 'node_modules/underscore/underscore-umd-min.js',
      '/vendor/backbone.js': 'node_modules/backbone/backbone-min.js',
    };
    for (const [path, file] of Object.entries(files)) app.get(path, (_req, res) => res.sendFile(ROOT + file));
    // The built drop-in, unless OUTBOX_SW names another build (to show that a case fails on an older release).
    app.get('/outbox-sw.js', (_req, res) => res.sendFile(process.env.OUTBOX_SW ?? `${ROOT}dist/outbox-sw.js`, { dotfiles: "allow" }));
    api.#app = app;
    await api.listen();
    return api;
  }

  /** Serves again after stop(), on the same port (the origin includes it). */
  async listen(): Promise<void> {
    const server = this.#app!.listen(this.#port, '127.0.0.1');
    await once(server, 'listening');
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.#port}`;
  }

  /** An outage: every connection is dropped and new ones are refused, the data kept. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.#server?.closeAllConnections();
      this.#server?.close(() => resolve());
    });
  }

  close(): Promise<void> {
    return this.stop();
  }

  /** The todos as a person would read them: title and done, in order of creation. */
  state(): { title: string; completed: boolean; notes: string[] }[] {
    return [...this.todos.values()].map((todo) => ({ title: todo.title, completed: todo.completed, notes: [...this.notes.values()].filter((note) => note.todo === todo.id).map((note) => note.text) }));
  }

  #routes(app: express.Express): void {
    const todoAt = (req: express.Request, res: express.Response): Todo | undefined => {
      const todo = this.todos.get(Number(req.params.id));
      if (!todo) res.status(404).json({ error: `no todo ${String(req.params.id)}` });
      return todo;
    };
    const fields = (body: unknown): Partial<Pick<Todo, 'title' | 'completed' | 'order'>> => {
      const given = (body ?? {}) as Record<string, unknown>;
      return {
        ...(typeof given.title === 'string' ? { title: given.title } : {}),
        ...(typeof given.completed === 'boolean' ? { completed: given.completed } : {}),
        ...(typeof given.order === 'number' ? { order: given.order } : {}),
      };
    };
    app.get('/todos', (_req, res) => void res.json([...this.todos.values()]));
    app.delete('/todos', (_req, res) => {
      this.todos.clear();
      this.notes.clear();
      res.status(204).end();
    });
    app.post('/todos', (req, res) => {
      const id = ++this.#lastTodo;
      const todo: Todo = { title: '', completed: false, order: id, ...fields(req.body), id, url: `${this.url}/todos/${id}` };
      this.todos.set(id, todo);
      res.status(201).location(todo.url).json(todo);
    });
    app.get('/todos/:id', (req, res) => {
      const todo = todoAt(req, res);
      if (todo) res.json(todo);
    });
    app.patch('/todos/:id', (req, res) => {
      const todo = todoAt(req, res);
      if (todo) res.json(Object.assign(todo, fields(req.body)));
    });
    app.put('/todos/:id', (req, res) => {
      const todo = todoAt(req, res);
      if (todo) res.json(Object.assign(todo, { title: '', completed: false, order: todo.order }, fields(req.body)));
    });
    app.delete('/todos/:id', (req, res) => {
      if (!todoAt(req, res)) return;
      this.todos.delete(Number(req.params.id));
      for (const [id, note] of this.notes) if (note.todo === Number(req.params.id)) this.notes.delete(id);
      res.status(204).end();
    });
    app.get('/todos/:id/notes', (req, res) => {
      if (todoAt(req, res)) res.json([...this.notes.values()].filter((note) => note.todo === Number(req.params.id)));
    });
    app.post('/todos/:id/notes', (req, res) => {
      const todo = todoAt(req, res);
      if (!todo) return;
      const id = ++this.#lastNote;
      const text = typeof req.body?.text === 'string' ? req.body.text : '';
      const note: Note = { id, url: `${this.url}/todos/${todo.id}/notes/${id}`, todo: todo.id, text };
      this.notes.set(id, note);
      res.status(201).location(note.url).json(note);
    });
  }
}
