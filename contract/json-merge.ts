/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [member: string]: Json };
type JsonObject = { [member: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * RFC 7396 JSON Merge Patch: `patch` applied to `target`. A member set to null is removed;
 * an object is merged member by member; anything else (arrays too) replaces the value.
 */
export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [member, value] of Object.entries(patch)) {
    if (value === null) delete result[member];
    else result[member] = applyMergePatch(result[member], value);
  }
  return result;
}

/**
 * One merge patch that does what `first` then `second` do, when there is one. There is
 * none when `second` sets an object where `first` set something else (null, a value):
 * applied in turn, the object replaces it whole, but one patch can only merge it in.
 */
export function composeMergePatches(first: Json, second: Json): Json | undefined {
  if (!isObject(second)) return second;
  if (!isObject(first)) return undefined;
  const result: JsonObject = { ...first };
  for (const [member, value] of Object.entries(second)) {
    if (!isObject(value) || !(member in result)) {
      result[member] = value;
      continue;
    }
    const composed = composeMergePatches(result[member]!, value);
    if (composed === undefined) return undefined;
    result[member] = composed;
  }
  return result;
}

/** The result of {@link threeWayMerge}: the merged value, or the members both sides changed differently. */
export type MergeResult = { merged: Json | undefined; conflicts: [] } | { merged?: never; conflicts: string[] };

export interface MergeOptions {
  /**
   * Arrays whose elements are all objects with this member (a string or number id) on
   * every side are merged element by element, matched by it: an element added, removed or
   * changed on one side only takes that side's doing. The order is ours, with theirs'
   * new elements after. Without it, an array is one value (RFC 7396's rule).
   */
  idKey?: string;
}

/**
 * A three-way merge of JSON, member by member: a member changed on one side only takes
 * that side's value; changed on both to the same value, that value; changed on both to
 * different values, it is a conflict, named by its JSON Pointer (RFC 6901). Objects on
 * all three sides are merged member by member, to any depth; anything else, arrays
 * included (RFC 7396's rule) unless `idKey` says how to match their elements, is one
 * value. `undefined` is a member that is absent.
 */
export function threeWayMerge(base: Json | undefined, ours: Json | undefined, theirs: Json | undefined, options: MergeOptions = {}): MergeResult {
  return merge(base, ours, theirs, options.idKey, '');
}

function merge(base: Json | undefined, ours: Json | undefined, theirs: Json | undefined, idKey: string | undefined, at: string): MergeResult {
  if (equal(ours, theirs) || equal(base, theirs)) return { merged: ours, conflicts: [] };
  if (equal(base, ours)) return { merged: theirs, conflicts: [] };
  if (idKey !== undefined && byId(ours, idKey) && byId(theirs, idKey) && (base === undefined || byId(base, idKey))) return mergeById(base as Json[] | undefined, ours as Json[], theirs as Json[], idKey, at);
  if (!isObject(ours) || !isObject(theirs)) return { conflicts: [at || '/'] };
  const common = isObject(base) ? base : {};
  const merged: JsonObject = {};
  const conflicts: string[] = [];
  for (const member of new Set([...Object.keys(common), ...Object.keys(ours), ...Object.keys(theirs)])) {
    const result = merge(common[member], ours[member], theirs[member], idKey, `${at}/${member.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    if (result.conflicts.length > 0) conflicts.push(...result.conflicts);
    else if (result.merged !== undefined) merged[member] = result.merged;
  }
  return conflicts.length > 0 ? { conflicts } : { merged, conflicts: [] };
}

/**
 * The RFC 7396 merge patch that turns `from` into `to`: members added or changed, and
 * `null` for those removed. (A merge patch cannot set a member to null, RFC 7396's own
 * limit.)
 */
export function mergePatchBetween(from: Json | undefined, to: Json): Json {
  if (!isObject(from) || !isObject(to)) return to;
  const patch: JsonObject = {};
  for (const [member, value] of Object.entries(to)) if (!equal(from[member], value)) patch[member] = mergePatchBetween(from[member], value);
  for (const member of Object.keys(from)) if (!(member in to)) patch[member] = null;
  return patch;
}

/** An array of objects that each have a string or number `idKey`, all different. */
function byId(value: Json | undefined, idKey: string): value is JsonObject[] {
  if (!Array.isArray(value)) return false;
  const ids = value.map((element) => (isObject(element) ? element[idKey] : undefined));
  return ids.every((id) => typeof id === 'string' || typeof id === 'number') && new Set(ids).size === ids.length;
}

/** Arrays merged element by element, matched by `idKey`: ours' order, then theirs' new elements. */
function mergeById(base: Json[] | undefined, ours: Json[], theirs: Json[], idKey: string, at: string): MergeResult {
  const index = (array: Json[] | undefined) => new Map((array ?? []).map((element) => [(element as JsonObject)[idKey], element]));
  const [common, mine, other] = [index(base), index(ours), index(theirs)];
  const ids = [...mine.keys(), ...[...other.keys()].filter((id) => !mine.has(id) && !common.has(id))];
  const merged: Json[] = [];
  const conflicts: string[] = [];
  for (const id of new Set([...ids, ...common.keys()])) {
    const position = ours.indexOf(mine.get(id)!) >= 0 ? ours.indexOf(mine.get(id)!) : theirs.indexOf(other.get(id)!);
    const result = merge(common.get(id), mine.get(id), other.get(id), idKey, `${at}/${position >= 0 ? position : String(id)}`);
    if (result.conflicts.length > 0) conflicts.push(...result.conflicts);
    else if (result.merged !== undefined) merged.push(result.merged);
  }
  return conflicts.length > 0 ? { conflicts } : { merged, conflicts: [] };
}

/** Deep equality of JSON values; member order does not count. */
export function equal(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((value, i) => equal(value, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const members = Object.keys(a);
  return members.length === Object.keys(b).length && members.every((member) => member in b && equal(a[member], b[member]));
}
