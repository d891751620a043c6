import {hash} from 'node:crypto'
import {isExactNumber, isJsonObject, jsonObject, stringifyJson, type JsonObject, type JsonValue} from './exact-json.js'

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
export const canonicalJson = (value: unknown): string => {
  const keys: string[] = []
  if (collectKeys(value, keys)) return JSON.stringify(value, inPropertyOrder(sortedInPlace(keys)) as string[])
  const parts: string[] = []
  return writeCanonical(value, parts) ? parts.join('') : stringifyJson(sortedKeys(value))
}

/**
 * `keys` sorted as Array.prototype.sort sorts strings (by UTF-16 code units). A secret's few keys are sorted by
 * insertion: V8's sort allocates about 1.4 KB of merge state per call, whatever the length, which made sorting
 * keys the largest allocation of hashing a merged target (issue 12).
 */
function sortedInPlace(keys: string[]): string[] {
  if (keys.length > 32) return keys.sort()
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string
    let j = i - 1
    for (; j >= 0 && (keys[j] as string) > key; j--) keys[j + 1] = keys[j] as string
    keys[j + 1] = key
  }
  return keys
}

/**
 * Every object key anywhere in `value`, into `keys` (a key may come more than once: a property list takes each
 * once), when JSON.stringify can write it canonically: given them sorted as its property list, it writes every
 * object's keys in that order, at every level, as one native string, with none of the per-key strings writeCanonical pushes (hashing is most of what a merged target
 * allocates, issue 12). False for anything JSON.stringify would not write exactly (ExactNumbers and other
 * objects with a toJSON, non-finite numbers, undefined) and for a `__proto__` key: the property list reads keys
 * with [[Get]], which on an ordinary object without that own key finds Object.prototype.
 */
function collectKeys(value: unknown, keys: string[]): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object': {
      if (value === null) return true
      if (Array.isArray(value)) {
        for (const item of value) if (!collectKeys(item, keys)) return false
        return true
      }
      const prototype = Object.getPrototypeOf(value) as unknown
      if (prototype !== null && prototype !== Object.prototype) return false
      const object = value as Record<string, unknown>
      if (typeof object.toJSON === 'function') return false
      for (const key of Object.keys(object)) {
        if (key === '__proto__' || !collectKeys(object[key], keys)) return false
        keys.push(key)
      }
      return true
    }
    default:
      return false
  }
}

/**
 * The keys of a null-prototype object built by inserting `sorted` in order, in the order that object lists
 * them: V8 lists array-index keys ("0" … "4294967294") first, ascending by number, then the others as inserted.
 */
export function inPropertyOrder(sorted: readonly string[]): readonly string[] {
  if (!sorted.some(isArrayIndex)) return sorted
  const indices = sorted.filter(isArrayIndex)
  return [...indices.sort((a, b) => Number(a) - Number(b)), ...sorted.filter((key) => !isArrayIndex(key))]
}

const isArrayIndex = (key: string): boolean => /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) <= 4294967294

// canonicalJson written straight into `parts`, with no sorted copy of the value (hashing is most of what a
// snapshot allocates, issue 12). Gives up (false) on anything but strings, finite numbers, ExactNumbers,
// booleans, null, arrays and JSON objects; canonicalJson then takes the general path.
function writeCanonical(value: unknown, parts: string[]): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      parts.push(JSON.stringify(value))
      return true
    case 'number':
      if (!Number.isFinite(value)) return false
      parts.push(JSON.stringify(value))
      return true
    case 'object': {
      if (value === null) {
        parts.push('null')
        return true
      }
      if (Array.isArray(value)) {
        parts.push('[')
        for (let i = 0; i < value.length; i++) {
          if (i > 0) parts.push(',')
          if (!writeCanonical(value[i], parts)) return false
        }
        parts.push(']')
        return true
      }
      if (isExactNumber(value)) {
        parts.push(value.value)
        return true
      }
      if (!isJsonObject(value)) return false
      const prototype = Object.getPrototypeOf(value) as unknown
      if (prototype !== null && prototype !== Object.prototype) return false
      parts.push('{')
      let first = true
      for (const key of inPropertyOrder(sortedInPlace(Object.keys(value)))) {
        const item = value[key]
        if (item === undefined) return false
        parts.push(first ? '' : ',', JSON.stringify(key), ':')
        first = false
        if (!writeCanonical(item, parts)) return false
      }
      parts.push('}')
      return true
    }
    default:
      return false
  }
}

/** sha256 of the canonical JSON, hex: the identity of a secret's content regardless of key order. */
// crypto.hash, not createHash: a Hash object is a stream, and one per secret was a large share of what hashing
// a merged target allocated (issue 12).
export const contentHash = (value: unknown): string => hash('sha256', canonicalJson(value), 'hex')

// Held secret data is never mutated once built (the merge shares unchanged subtrees between targets instead of
// copying them), so an object's hash is its identity's: the merge store's snapshot and the plan both hash each
// merged secret, and targets share the secrets no override touches (issue 12). Entries go with their objects.
const secretHashes = new WeakMap<JsonObject, string>()

/** `contentHash` of a secret object, computed once per object. */
export function secretHash(secret: JsonObject): string {
  let known = secretHashes.get(secret)
  if (known === undefined) {
    known = contentHash(secret)
    secretHashes.set(secret, known)
  }
  return known
}

/**
 * Deep JSON equality (docs/design.md §4): key order does not matter, numbers are equal when their JSON text is
 * (`1` = `1`, `1.0` ≠ `1`), every own key counts.
 */
export const jsonEqual = (a: unknown, b: unknown): boolean => a === b || canonicalJson(a) === canonicalJson(b)

/** A JSON object (not an array, not an ExactNumber); kept under this name for its existing callers. */
export const isPlainObject = (value: unknown): value is JsonObject => isJsonObject(value)
