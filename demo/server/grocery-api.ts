import { entityTag, headerValue, ifMatchVersion, json, problem, type ReadRequest, type Reply } from '../../server/index.js';
import { GroceryModel, ModelError, type List } from './grocery-model.js';

/**
 * The grocery REST API, written as any online API is: JSON in and out, client-made ids,
 * ETag on reads, If-Match honoured with 412. Idempotency-Key and ordering are handled
 * around it (demo-server.ts), so these routes know nothing of retries.
 *
 *   GET    /api/lists                      all lists (no items)
 *   POST   /api/lists                      { id, name }
 *   GET    /api/lists/:list                one list with its items; ETag
 *   PATCH  /api/lists/:list                { name }; If-Match
 *   DELETE /api/lists/:list
 *   POST   /api/lists/:list/items          { id, name }
 *   PATCH  /api/lists/:list/items/:item    { name?, done? }; If-Match
 *   DELETE /api/lists/:list/items/:item
 *   POST   /api/lists/:list/moves          { item, after }: move item just after another (null: top)
 *   GET    /api/lists/:list/note           the shared note: one Yjs update (application/octet-stream)
 *   POST   /api/lists/:list/note           a Yjs update of the note, merged in
 */
export class GroceryApi {
  constructor(readonly model = new GroceryModel()) {}

  handle(request: ReadRequest): Reply {
    try {
      return this.#route(request);
    } catch (error) {
      if (error instanceof ModelError) return error.reply ?? problem(error.status, error.title, error.message);
      if (error instanceof BadRequest) return problem(400, 'Bad request', error.message);
      throw error;
    }
  }

  #route({ method, url, headers, body, bytes }: ReadRequest): Reply {
    const [, api, lists, listId, sub, itemId, ...rest] = url.pathname.split('/');
    if (api !== 'api' || lists !== 'lists' || rest.length > 0) return notFound(method, url);
    const ifMatch = () => ifMatchVersion(headerValue(headers, 'if-match'));
    const at = `${method} ${url.pathname}`;

    if (listId === undefined) {
      if (method === 'GET') return json(200, this.model.lists().map(({ id, name, items }) => ({ id, name, itemCount: items.length })));
      if (method === 'POST') {
        const input = parseBody(at, body);
        return listReply(201, this.model.createList(field(at, input, 'id'), field(at, input, 'name')));
      }
    } else if (sub === undefined) {
      if (method === 'GET') return listReply(200, this.model.list(listId));
      if (method === 'PATCH') return listReply(200, this.model.renameList(listId, field(at, parseBody(at, body), 'name'), ifMatch()));
      if (method === 'DELETE') {
        this.model.deleteList(listId);
        return { status: 204, headers: {}, body: '' };
      }
    } else if (sub === 'items' && itemId === undefined && method === 'POST') {
      const input = parseBody(at, body);
      const item = this.model.addItem(listId, field(at, input, 'id'), field(at, input, 'name'));
      return json(201, item, { etag: entityTag(item.version) });
    } else if (sub === 'items' && itemId !== undefined) {
      if (method === 'PATCH') {
        const input = parseBody(at, body);
        const change = { name: optional(at, input, 'name', 'string'), done: optional(at, input, 'done', 'boolean') };
        if (change.name === undefined && change.done === undefined) throw new BadRequest(`${at}: give "name", "done" or both.`);
        const item = this.model.updateItem(listId, itemId, change, ifMatch());
        return json(200, item, { etag: entityTag(item.version) });
      }
      if (method === 'DELETE') {
        this.model.deleteItem(listId, itemId);
        return { status: 204, headers: {}, body: '' };
      }
    } else if (sub === 'note' && itemId === undefined) {
      if (method === 'GET') return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: this.model.note(listId) };
      if (method === 'POST') {
        try {
          this.model.editNote(listId, bytes);
        } catch (error) {
          if (error instanceof ModelError) throw error;
          throw new BadRequest(`${at}: the body must be a Yjs update of the note (application/octet-stream).`);
        }
        return { status: 204, headers: {}, body: '' };
      }
    } else if (sub === 'moves' && itemId === undefined && method === 'POST') {
      const input = parseBody(at, body);
      const after = input.after;
      if (after !== null && typeof after !== 'string') throw new BadRequest(`${at}: "after" must be an item id or null (to the top).`);
      return listReply(200, this.model.moveItem(listId, field(at, input, 'item'), after));
    }
    return notFound(method, url);
  }
}

class BadRequest extends Error {}

function listReply(status: number, list: List): Reply {
  return json(status, list, { etag: entityTag(list.version) });
}

function parseBody(at: string, body: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Answered below.
  }
  throw new BadRequest(`${at}: the body must be a JSON object.`);
}

function field(at: string, input: Record<string, unknown>, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value.trim() === '' || value.length > 200) {
    throw new BadRequest(`${at}: "${name}" must be a non-empty string of at most 200 characters.`);
  }
  return value;
}

function optional<T extends 'string' | 'boolean'>(at: string, input: Record<string, unknown>, name: string, type: T): (T extends 'string' ? string : boolean) | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (type === 'string') return field(at, input, name) as never;
  if (typeof value !== type) throw new BadRequest(`${at}: "${name}" must be a ${type}.`);
  return value as never;
}

function notFound(method: string, url: URL): Reply {
  return problem(404, 'No such route', `${method} ${url.pathname} is not part of the grocery API.`);
}
