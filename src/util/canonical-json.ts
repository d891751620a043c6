import {createHash} from 'node:crypto'
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
  const parts: string[] = []
  return writeCanonical(value, parts) ? parts.join('') : stringifyJson(sortedKeys(value))
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
      for (const key of inPropertyOrder(Object.keys(value).sort())) {
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
export const contentHash = (value: unknown): string => createHash('sha256').update(canonicalJson(value)).digest('hex')

/**
 * Deep JSON equality (docs/design.md §4): key order does not matter, numbers are equal when their JSON text is
 * (`1` = `1`, `1.0` ≠ `1`), every own key counts.
 */
export const jsonEqual = (a: unknown, b: unknown): boolean => a === b || canonicalJson(a) === canonicalJson(b)

/** A JSON object (not an array, not an ExactNumber); kept under this name for its existing callers. */
export const isPlainObject = (value: unknown): value is JsonObject => isJsonObject(value)
