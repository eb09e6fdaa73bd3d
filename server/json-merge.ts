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

/**
 * A three-way merge of JSON, member by member: a member changed on one side only takes
 * that side's value; changed on both to the same value, that value; changed on both to
 * different values, it is a conflict, named by its JSON Pointer (RFC 6901). Objects on
 * all three sides are merged member by member, to any depth; anything else, arrays
 * included (RFC 7396's rule), is one value. `undefined` is a member that is absent.
 */
export function threeWayMerge(base: Json | undefined, ours: Json | undefined, theirs: Json | undefined, at = ''): MergeResult {
  if (equal(ours, theirs) || equal(base, theirs)) return { merged: ours, conflicts: [] };
  if (equal(base, ours)) return { merged: theirs, conflicts: [] };
  if (!isObject(ours) || !isObject(theirs)) return { conflicts: [at || '/'] };
  const common = isObject(base) ? base : {};
  const merged: JsonObject = {};
  const conflicts: string[] = [];
  for (const member of new Set([...Object.keys(common), ...Object.keys(ours), ...Object.keys(theirs)])) {
    const result = threeWayMerge(common[member], ours[member], theirs[member], `${at}/${member.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    if (result.conflicts.length > 0) conflicts.push(...result.conflicts);
    else if (result.merged !== undefined) merged[member] = result.merged;
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
