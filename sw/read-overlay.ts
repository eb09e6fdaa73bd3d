/**
 * The user's own waiting writes, applied to a JSON read as the server will apply them once
 * they arrive (decision 0023): a collection gains its waiting creates (with their
 * provisional identities) and loses its waiting deletes; a member, in a collection or read
 * alone, takes its waiting PATCHes (as JSON Merge Patch) and PUTs. Pure: the outbox gives
 * it the read and the waiting writes, in the order they will be sent.
 */
import { applyMergePatch, type Json } from '../contract/json-merge.js';
import type { CollectionsOptions } from './options.js';

/** A waiting write as the overlay reads it. */
export interface WaitingWrite {
  method: string;
  url: string;
  /** Its JSON body; undefined when it has none or it is no JSON (nothing to apply). */
  json: Json | undefined;
  contentType: string | null;
  provisional?: { id: string; url: string };
}

export interface Overlaid {
  body: Json;
  /** How many waiting writes changed it. */
  applied: number;
  /** A single resource that a waiting DELETE removes: there is nothing to show. */
  deleted: boolean;
}

/**
 * Applies `writes` to `body`, read from `url`. `collection`: the read is a collection (its
 * URL is in `collections`, or its body is a bare array); its members are the elements of
 * the array, or, for an object, of its first member that is an array.
 */
export function overlay(body: Json, url: string, writes: readonly WaitingWrite[], collection: boolean, options: Pick<CollectionsOptions, 'idMember' | 'urlMember'>): Overlaid {
  const at = withoutQuery(url);
  let current = body;
  let applied = 0;
  let deleted = false;
  for (const write of writes) {
    const target = withoutQuery(write.url);
    if (collection) {
      const next = onCollection(current, at, target, write, options);
      if (next !== undefined) {
        current = next;
        applied += 1;
      }
    } else if (target === at && !deleted) {
      if (write.method === 'DELETE') {
        deleted = true;
        applied += 1;
      } else {
        const next = edited(current, write);
        if (next !== undefined) {
          current = next;
          applied += 1;
        }
      }
    }
  }
  return { body: current, applied, deleted };
}

/** A collection after one write, or undefined when the write does not touch it. */
function onCollection(body: Json, at: string, target: string, write: WaitingWrite, options: Pick<CollectionsOptions, 'idMember' | 'urlMember'>): Json | undefined {
  const members = membersOf(body);
  if (!members) return undefined;
  if (write.method === 'POST' && target === at) {
    if (!isObject(write.json)) return undefined;
    const identity = write.provisional ? { [options.idMember]: write.provisional.id, ...(options.urlMember === undefined ? {} : { [options.urlMember]: write.provisional.url }) } : {};
    return withMembers(body, [...members, { ...write.json, ...identity }]);
  }
  if (parentOf(target) !== at) return undefined;
  const index = members.findIndex((member) => memberUrl(member, at, options) === target);
  if (index < 0) return undefined;
  if (write.method === 'DELETE') return withMembers(body, members.filter((_, i) => i !== index));
  const next = edited(members[index]!, write);
  if (next === undefined) return undefined;
  // Its identity stays what the collection said, whatever the body of a PUT left out.
  const kept = keepIdentity(members[index]!, next, options);
  return withMembers(body, members.map((member, i) => (i === index ? kept : member)));
}

/** A resource after a PATCH (JSON Merge Patch, or plain JSON, which reads the same) or a PUT; undefined for any other write or body. */
function edited(resource: Json, write: WaitingWrite): Json | undefined {
  if (write.json === undefined || /json-patch/i.test(write.contentType ?? '')) return undefined;
  if (write.method === 'PUT') return write.json;
  if (write.method === 'PATCH') return applyMergePatch(resource, write.json);
  return undefined;
}

function keepIdentity(before: Json, after: Json, options: Pick<CollectionsOptions, 'idMember' | 'urlMember'>): Json {
  if (!isObject(before) || !isObject(after)) return after;
  const identity: Record<string, Json> = {};
  for (const name of [options.idMember, options.urlMember]) if (name !== undefined && before[name] !== undefined) identity[name] = before[name]!;
  return { ...after, ...identity };
}

/** The members of a collection: a bare array, or an object's first array member. */
function membersOf(body: Json): Json[] | undefined {
  if (Array.isArray(body)) return body;
  if (!isObject(body)) return undefined;
  return Object.values(body).find(Array.isArray);
}

function withMembers(body: Json, members: Json[]): Json {
  if (Array.isArray(body)) return members;
  const name = Object.entries(body as Record<string, Json>).find(([, value]) => Array.isArray(value))![0];
  return { ...(body as Record<string, Json>), [name]: members };
}

/** A member's URL: its URL member when the API gives one, else its id under the collection. */
function memberUrl(member: Json, collection: string, options: Pick<CollectionsOptions, 'idMember' | 'urlMember'>): string | undefined {
  if (!isObject(member)) return undefined;
  const own = options.urlMember === undefined ? undefined : member[options.urlMember];
  if (typeof own === 'string') {
    try {
      return withoutQuery(new URL(own, collection).href);
    } catch {
      return undefined;
    }
  }
  const id = member[options.idMember];
  return typeof id === 'string' || typeof id === 'number' ? `${collection}/${encodeURIComponent(String(id))}` : undefined;
}

function parentOf(url: string): string {
  return url.replace(/\/[^/]*$/, '');
}

function withoutQuery(url: string): string {
  return url.replace(/[?#].*$/, '').replace(/\/$/, '');
}

function isObject(value: Json | undefined): value is { [member: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
