import {createHash} from 'node:crypto'
import {isJsonObject, jsonObject, stringifyJson, type JsonObject, type JsonValue} from './exact-json.js'

export type {JsonObject, JsonValue} from './exact-json.js'

// Sorted into a fresh object, so integer-like keys come first exactly as they always did: the canonical text of
// a document without ExactNumbers is byte-identical to earlier releases, and stored hashes keep matching.
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys)
  if (!isJsonObject(value)) return value
  return jsonObject(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortedKeys(value[key]) as JsonValue] as const),
  )
}

/**
 * JSON with object keys sorted at every level, so equal documents serialise (and hash) identically. Numbers are
 * written as their exact text and every own key counts (`__proto__` too). Throws InexactJsonError for values
 * JSON cannot hold.
 */
export const canonicalJson = (value: unknown): string => stringifyJson(sortedKeys(value))

/** sha256 of the canonical JSON, hex: the identity of a secret's content regardless of key order. */
export const contentHash = (value: unknown): string => createHash('sha256').update(canonicalJson(value)).digest('hex')

/**
 * Deep JSON equality (docs/design.md §4): key order does not matter, numbers are equal when their JSON text is
 * (`1` = `1`, `1.0` ≠ `1`), every own key counts.
 */
export const jsonEqual = (a: unknown, b: unknown): boolean => a === b || canonicalJson(a) === canonicalJson(b)

/** A JSON object (not an array, not an ExactNumber); kept under this name for its existing callers. */
export const isPlainObject = (value: unknown): value is JsonObject => isJsonObject(value)
