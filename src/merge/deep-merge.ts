import deepmerge from 'deepmerge'
import {isDeepStrictEqual} from 'node:util'
import type {ListMergeMode} from '../config/schema.js'
import {isPlainObject, type JsonObject} from '../util/canonical-json.js'

const arrayMergers: Record<ListMergeMode, deepmerge.Options['arrayMerge']> = {
  append: (earlier, later) => [...earlier, ...later],
  // isDeepStrictEqual ignores key order, so {a,b} and {b,a} are one item.
  append_unique: (earlier, later) =>
    later.reduce<unknown[]>((out, item) => (out.some((kept) => isDeepStrictEqual(kept, item)) ? out : [...out, item]), [...earlier]),
  replace: (_earlier, later) => [...later],
}

/**
 * deepmerge lets a later null overwrite; our rule is that a later null keeps the earlier value. So drop
 * those nulls from the later side first, recursing where both sides are objects that will merge.
 */
function withoutShadowingNulls(earlier: unknown, later: unknown): unknown {
  if (!isPlainObject(earlier) || !isPlainObject(later)) return later
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(later)) {
    if (value === null && earlier[key] !== undefined) continue
    out[key] = withoutShadowingNulls(earlier[key], value)
  }
  return out
}

/**
 * Deep-merges `later` into `earlier` by DESIGN.md §4: objects recurse, lists follow `mode`, scalars and type
 * conflicts take the later value, a later null keeps the earlier value. Neither input is mutated.
 */
export function mergeSecret(earlier: JsonObject, later: JsonObject, mode: ListMergeMode): JsonObject {
  return deepmerge(earlier, withoutShadowingNulls(earlier, later) as JsonObject, {
    arrayMerge: arrayMergers[mode],
    // Only plain objects and arrays merge; anything else is a value that the later side replaces.
    isMergeableObject: (value) => Array.isArray(value) || isPlainObject(value),
  }) as JsonObject
}
