/** The demo's data: lists of items, kept in memory, each with a version for ETags. */

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

/** A failure the API turns into a problem+json answer. */
export class ModelError extends Error {
  constructor(
    readonly status: 404 | 409 | 412,
    readonly title: string,
    detail: string,
  ) {
    super(detail);
  }
}

export class GroceryModel {
  readonly #lists = new Map<string, List>();

  /** A model holding `lists`, as toJSON gave them. */
  static from(lists: List[]): GroceryModel {
    const model = new GroceryModel();
    for (const list of lists) model.#lists.set(list.id, list);
    return model;
  }

  toJSON(): List[] {
    return this.lists();
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
    return list;
  }

  renameList(id: string, name: string, ifMatch?: number): List {
    const list = this.list(id);
    checkVersion(`List ${id}`, list.version, ifMatch);
    list.name = name;
    list.version++;
    return list;
  }

  /** Deleting what is gone already is not an error: the user's intent holds. */
  deleteList(id: string): void {
    this.#lists.delete(id);
  }

  addItem(listId: string, id: string, name: string): Item {
    const list = this.list(listId);
    if (list.items.some((item) => item.id === id)) throw new ModelError(409, 'Item exists', `An item with id ${id} exists already; ids must be new.`);
    const item: Item = { id, name, done: false, version: 1 };
    list.items.push(item);
    list.version++;
    return item;
  }

  /** Applies only the fields given: a tick does not carry, or overwrite, the name. */
  updateItem(listId: string, id: string, change: { name?: string; done?: boolean }, ifMatch?: number): Item {
    const list = this.list(listId);
    const item = this.#item(list, id);
    checkVersion(`Item ${id}`, item.version, ifMatch);
    if (change.name !== undefined) item.name = change.name;
    if (change.done !== undefined) item.done = change.done;
    item.version++;
    list.version++;
    return item;
  }

  deleteItem(listId: string, id: string): void {
    const list = this.#lists.get(listId);
    if (!list) return;
    const index = list.items.findIndex((item) => item.id === id);
    if (index === -1) return;
    list.items.splice(index, 1);
    list.version++;
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
    list.version++;
    return list;
  }

  #item(list: List, id: string): Item {
    const item = list.items.find((candidate) => candidate.id === id);
    if (!item) throw new ModelError(404, 'No such item', `Item ${id} is not in list ${list.id}; it may have been deleted.`);
    return item;
  }
}

function checkVersion(what: string, current: number, expected: number | undefined): void {
  if (expected !== undefined && expected !== current) {
    throw new ModelError(412, 'Changed by someone else', `${what} is at version ${current}, but this change was made to version ${expected}. Reload it and make the change again.`);
  }
}
