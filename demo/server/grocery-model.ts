import * as Y from 'yjs';
import { changedSince, patchIfMatch, ResourceVersions, type Json, type Reply } from '../../server/index.js';

/**
 * The demo's data: lists of items, kept in memory, each with a version for ETags, and
 * the last versions of each, so that a change made to an older version is merged with
 * the changes since (a rename made offline and someone's tick both stay).
 */

export interface Item {
  id: string;
  name: string;
  done: boolean;
  /** Bumped by every change to the item (rename, tick); moves do not change it. */
  version: number;
}

export interface List {
  id: string;
  name: string;
  /** Bumped by every change to the list or its items, moves included. */
  version: number;
  items: Item[];
}

/** A failure the API turns into a problem+json answer (`reply`, when it is more than a title and detail). */
export class ModelError extends Error {
  constructor(
    readonly status: 404 | 409 | 412,
    readonly title: string,
    detail: string,
    readonly reply?: Reply,
  ) {
    super(detail);
  }
}

/** The model as toJSON gives it, for a store to keep. */
export interface ModelData {
  lists: List[];
  versions: ReturnType<ResourceVersions['toJSON']>;
  /** Each list's shared note, as one Yjs update in base64. */
  notes?: [string, string][];
}

/** A note nobody has written in: the update of an empty Yjs document. */
const EMPTY_NOTE = Y.encodeStateAsUpdate(new Y.Doc());

// What a conditional write may change, per kind of resource: the rest (items, order) has
// writes of its own.
const listFields = (list: List) => ({ name: list.name });
const itemFields = (item: Item) => ({ name: item.name, done: item.done });

export class GroceryModel {
  readonly #lists = new Map<string, List>();
  #versions = new ResourceVersions({ keep: 20 });
  /** Each list's shared note: every update it was sent, merged into one. */
  readonly #notes = new Map<string, Uint8Array>();

  /** A model holding what toJSON gave. */
  static from({ lists, versions, notes = [] }: ModelData): GroceryModel {
    const model = new GroceryModel();
    for (const list of lists) model.#lists.set(list.id, list);
    model.#versions = new ResourceVersions({ keep: 20, versions });
    for (const [id, note] of notes) model.#notes.set(id, new Uint8Array(Buffer.from(note, 'base64')));
    return model;
  }

  toJSON(): ModelData {
    const notes = [...this.#notes].map(([id, note]): [string, string] => [id, Buffer.from(note).toString('base64')]);
    return { lists: this.lists(), versions: this.#versions.toJSON(), notes };
  }

  lists(): List[] {
    return [...this.#lists.values()];
  }

  list(id: string): List {
    const list = this.#lists.get(id);
    if (!list) throw new ModelError(404, 'No such list', `List ${id} does not exist; it may have been deleted.`);
    return list;
  }

  createList(id: string, name: string): List {
    if (this.#lists.has(id)) throw new ModelError(409, 'List exists', `A list with id ${id} exists already; ids must be new.`);
    const list: List = { id, name, version: 1, items: [] };
    this.#lists.set(id, list);
    this.#remember(list);
    return list;
  }

  renameList(id: string, name: string, ifMatch?: number): List {
    const list = this.list(id);
    ({ name: list.name } = this.#patch(`List ${id}`, `list:${id}`, listFields(list), list.version, ifMatch, { name }));
    this.#changed(list);
    return list;
  }

  /** Deleting what is gone already is not an error: the user's intent holds. */
  deleteList(id: string): void {
    this.#lists.delete(id);
    this.#versions.forget(`list:${id}`);
    this.#notes.delete(id);
  }

  /** The list's shared note, as one Yjs update that holds every edit the server has. */
  note(listId: string): Uint8Array {
    this.list(listId);
    return this.#notes.get(listId) ?? EMPTY_NOTE;
  }

  /**
   * Takes a Yjs update of the list's note. Updates are operations, not states: merging
   * one twice, or two in either order, gives the same note, so a replay or a write that
   * arrives late changes nothing it should not, and nothing conflicts.
   */
  editNote(listId: string, update: Uint8Array): void {
    const note = this.note(listId);
    Y.decodeUpdate(update); // throws for bytes that are not an update
    this.#notes.set(listId, Y.mergeUpdates([note, update]));
  }

  /** The note's text, as a reader of it sees it. */
  noteText(listId: string): string {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, this.note(listId));
    return doc.getText('note').toString();
  }

  addItem(listId: string, id: string, name: string): Item {
    const list = this.list(listId);
    if (list.items.some((item) => item.id === id)) throw new ModelError(409, 'Item exists', `An item with id ${id} exists already; ids must be new.`);
    const item: Item = { id, name, done: false, version: 1 };
    list.items.push(item);
    list.version++;
    this.#remember(list, item);
    return item;
  }

  /**
   * Applies only the fields given: a tick does not carry, or overwrite, the name. Made to
   * an older version (If-Match), it is merged with what changed since; only a field that
   * both changed, differently, is refused (412, with the item as it is now).
   */
  updateItem(listId: string, id: string, change: { name?: string; done?: boolean }, ifMatch?: number): Item {
    const list = this.list(listId);
    const item = this.#item(list, id);
    ({ name: item.name, done: item.done } = this.#patch(`Item ${id}`, `item:${listId}/${id}`, itemFields(item), item.version, ifMatch, change));
    this.#changed(list, item);
    return item;
  }

  deleteItem(listId: string, id: string): void {
    const list = this.#lists.get(listId);
    if (!list) return;
    const index = list.items.findIndex((item) => item.id === id);
    if (index === -1) return;
    list.items.splice(index, 1);
    this.#versions.forget(`item:${listId}/${id}`);
    this.#changed(list);
  }

  /**
   * Moves an item to just after another (null: to the top). The intent, "after milk",
   * survives others' moves, where a whole new order would undo them. If the item it
   * should follow is gone, it goes to the end.
   */
  moveItem(listId: string, id: string, after: string | null): List {
    const list = this.list(listId);
    const item = this.#item(list, id);
    list.items.splice(list.items.indexOf(item), 1);
    const anchor = after === null ? -1 : list.items.findIndex((candidate) => candidate.id === after);
    const index = after === null ? 0 : anchor === -1 ? list.items.length : anchor + 1;
    list.items.splice(index, 0, item);
    this.#changed(list);
    return list;
  }

  /** A change: the versions of the list (and of its item) it touched go up, and are kept. */
  #changed(list: List, item?: Item): void {
    if (item) item.version++;
    list.version++;
    this.#remember(list, item);
  }

  /** Keeps the current versions of a list (and an item of it), for writes made to them later. */
  #remember(list: List, item?: Item): void {
    if (item) this.#versions.remember(`item:${list.id}/${item.id}`, item.version, itemFields(item));
    this.#versions.remember(`list:${list.id}`, list.version, listFields(list));
  }

  /** The fields after a conditional change: applied, merged, or refused with 412. */
  #patch<T extends Json>(what: string, resource: string, current: T, version: number, ifMatch: number | undefined, change: Json): T {
    // Through JSON: a field the change leaves out (undefined) is no member of the patch.
    const patch = JSON.parse(JSON.stringify(change)) as Json;
    const outcome = patchIfMatch({ current, version, ifMatch, base: ifMatch === undefined ? undefined : this.#versions.at(resource, ifMatch), patch });
    if (!outcome.applied) throw new ModelError(412, 'Changed by someone else', `${what} was changed by someone else.`, changedSince(what, current, version, outcome.conflicts));
    return outcome.value as T;
  }

  #item(list: List, id: string): Item {
    const item = list.items.find((candidate) => candidate.id === id);
    if (!item) throw new ModelError(404, 'No such item', `Item ${id} is not in list ${list.id}; it may have been deleted.`);
    return item;
  }
}
