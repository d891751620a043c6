import type {ListMergeMode} from '../config/schema.js'
import {canonicalJson} from '../util/canonical-json.js'
import {isJsonObject, jsonObject, nullPrototypeObject, type JsonObject, type JsonValue} from '../util/exact-json.js'

// Not the `deepmerge` package: its object merge skips every key that exists on the target's prototype chain
// (`__proto__`, `constructor`, `toString` ...) and cannot be told otherwise, and it builds `{}` objects, where
// assigning `__proto__` changes the prototype instead of adding the key. Secret keys are data, so this merge
// puts every own key into null-prototype objects and keeps the docs/design.md §4 rules deepmerge was used for.

/** How a value of `later` goes into the result: copied, or (already copied once, see `ownCopy`) as it is. */
type Take = (value: JsonValue) => JsonValue

const appendUnique = (earlier: readonly JsonValue[], later: readonly JsonValue[], take: Take): JsonValue[] => {
  // Deep JSON equality by canonical text: key order does not matter, numbers compare by their exact text.
  const seen = new Set(earlier.map((item) => canonicalJson(item)))
  const out = [...earlier]
  for (const item of later) {
    const text = canonicalJson(item)
    if (seen.has(text)) continue
    seen.add(text)
    out.push(take(item))
  }
  return out
}

const listMergers: Record<
  ListMergeMode,
  (earlier: readonly JsonValue[], later: readonly JsonValue[], take: Take) => JsonValue[]
> = {
  append: (earlier, later, take) => [...earlier, ...later.map(take)],
  append_unique: appendUnique,
  replace: (_earlier, later, take) => later.map(take),
}

/** A copy with every object rebuilt null-prototype (YAML overrides arrive as ordinary objects). */
function copy(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(copy)
  if (isJsonObject(value))
    return jsonObject(Object.keys(value).map((key) => [key, copy(value[key] as JsonValue)] as const))
  return value
}

const asItIs: Take = (value) => value

function mergeValue(earlier: JsonValue | undefined, later: JsonValue, mode: ListMergeMode, take: Take): JsonValue {
  if (isJsonObject(earlier) && isJsonObject(later)) return mergeObjects(earlier, later, mode, take)
  if (Array.isArray(earlier) && Array.isArray(later)) return listMergers[mode](earlier, later, take)
  // Scalars and type conflicts: the later value wins.
  return take(later)
}

// Earlier's values are shared, not copied: held secret data is never mutated, so a subtree no later key touches
// is the same in the result as in the input, and a 2,000-secret target costs one small object per secret per
// level the overrides reach instead of a deep copy of every secret (issue 12).
function mergeObjects(earlier: JsonObject, later: JsonObject, mode: ListMergeMode, take: Take): JsonObject {
  const out = nullPrototypeObject()
  for (const key of Object.keys(earlier)) out[key] = earlier[key] as JsonValue
  for (const key of Object.keys(later)) {
    const value = later[key] as JsonValue
    const before = Object.hasOwn(earlier, key) ? earlier[key] : undefined
    // A later null keeps the earlier value; it only sets a key the earlier side does not have.
    if (value === null && before !== undefined) continue
    out[key] = mergeValue(before, value, mode, take)
  }
  return out
}

/**
 * Deep-merges `later` into `earlier` by docs/design.md §4: objects recurse, lists follow `mode` (append,
 * append_unique dropping later duplicates by deep JSON equality, replace), scalars and type conflicts take the
 * later value, a later null keeps the earlier value. Every own key of both sides is kept, whatever its name. The
 * inputs are not mutated; the result is built of null-prototype objects and shares the subtrees of `earlier`
 * that `later` does not touch (secret data is immutable once held), while `later`'s values are copied.
 */
export function mergeSecret(earlier: JsonObject, later: JsonObject, mode: ListMergeMode): JsonObject {
  return mergeObjects(earlier, later, mode, copy)
}

/** `value` copied once into null-prototype objects, to be merged into many secrets with `mergeOwnCopy`. */
export const ownCopy = (value: JsonObject): JsonObject => copy(value) as JsonObject

/**
 * `mergeSecret` for a `later` that `ownCopy` made: its values go into the result as they are, shared by every
 * secret it is merged into (held data is never mutated), so a target's overrides are copied once, not per secret.
 */
export function mergeOwnCopy(earlier: JsonObject, later: JsonObject, mode: ListMergeMode): JsonObject {
  return mergeObjects(earlier, later, mode, asItIs)
}
