import { applyMergePatch, threeWayMerge, type Json } from '../contract/json-merge.js';
import type { Reply } from './problem.js';
import { CHANGED_PROBLEM_TYPE } from '../contract/problem-types.js';

/** A strong ETag for a version number: `"3"`. */
export function entityTag(version: number): string {
  return `"${version}"`;
}

/**
 * The version an If-Match header names: undefined for none or `*` (any version), -1 for a
 * tag that is not one of ours (it can match no version).
 */
export function ifMatchVersion(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^"(\d+)"$/.exec(header.trim());
  return match ? Number(match[1]) : -1;
}

/**
 * The last versions of each resource, so that a write made to one of them can be merged
 * with what changed since. Bounded: `keep` versions per resource.
 */
export class ResourceVersions {
  readonly #keep: number;
  readonly #versions: Map<string, [number, Json][]>;

  constructor({ keep = 10, versions = [] }: { keep?: number; versions?: [string, [number, Json][]][] } = {}) {
    if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`ResourceVersions: keep must be a whole number of versions, 1 or more; got ${String(keep)}.`);
    this.#keep = keep;
    this.#versions = new Map(versions);
  }

  /** Records `value` as `resource`'s representation at `version`. */
  remember(resource: string, version: number, value: Json): void {
    const kept = this.#versions.get(resource) ?? [];
    kept.push([version, value]);
    if (kept.length > this.#keep) kept.shift();
    this.#versions.set(resource, kept);
  }

  /** `resource` at `version`, if it is still kept. */
  at(resource: string, version: number): Json | undefined {
    return this.#versions.get(resource)?.find(([kept]) => kept === version)?.[1];
  }

  forget(resource: string): void {
    this.#versions.delete(resource);
  }

  /** What the constructor's `versions` takes back, to keep them in a store. */
  toJSON(): [string, [number, Json][]][] {
    return [...this.#versions];
  }
}

/** What {@link patchIfMatch} decided. */
export type PatchOutcome =
  /** The patch applies: to the current version, or merged with what changed since the version it was made to (`merged`). */
  | { applied: true; value: Json; merged: boolean }
  /** It cannot: the members both sides changed (JSON Pointers), or none when the version it was made to is no longer kept. */
  | { applied: false; conflicts: string[] };

/**
 * A merge-patch (RFC 7396) write with If-Match, decided as a server that keeps its last
 * versions can: applied when the precondition holds; when it is stale but the version it
 * names is kept, merged three-way with what changed since (a member the write changed and
 * nobody else did takes the write's value; one changed by both, differently, is a
 * conflict); else refused.
 */
export function patchIfMatch({ current, version, ifMatch, base, patch }: { current: Json; version: number; ifMatch: number | undefined; base: Json | undefined; patch: Json }): PatchOutcome {
  if (ifMatch === undefined || ifMatch === version) return { applied: true, value: applyMergePatch(current, patch), merged: false };
  if (base === undefined) return { applied: false, conflicts: [] };
  const result = threeWayMerge(base, applyMergePatch(base, patch), current);
  if (result.conflicts.length > 0) return { applied: false, conflicts: result.conflicts };
  return { applied: true, value: result.merged ?? null, merged: true };
}

/**
 * The 412 for a write that could not be applied: problem+json with the current
 * representation (`current`) and its ETag, so that a client can show both sides or try
 * again with a fresh precondition, and the members in conflict.
 */
export function changedSince(what: string, current: Json, version: number, conflicts: string[]): Reply {
  // Read by people too (the status element shows it): fields by name, not by pointer.
  const fields = conflicts.map((pointer) => pointer.slice(1).replace(/\//g, '.').replace(/~1/g, '/').replace(/~0/g, '~'));
  const detail = conflicts.length > 0
    ? `${what} was changed by someone else since this change was made, and both changed its ${fields.join(', ')}. Reload it and make the change again.`
    : `${what} is at version ${version}, and the version this change was made to is no longer known. Reload it and make the change again.`;
  const body = { type: CHANGED_PROBLEM_TYPE, title: 'Changed by someone else', status: 412, detail, conflicts, current };
  return { status: 412, headers: { 'content-type': 'application/problem+json', etag: entityTag(version) }, body: JSON.stringify(body) };
}
