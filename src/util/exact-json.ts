import {isLosslessNumber, LosslessNumber, parse, stringify} from 'lossless-json'

/**
 * Secret data as secretsync holds it, exact to the last byte of the JSON text it came from (docs/design.md §4):
 * - a number keeps its text: it is a plain `number` only when that number prints back as the very same text
 *   (`5432`, `0.25`, `1e+21`); anything else (`1152921504606846977`, `1e400`, `-0`, `1.0`, `2.50`,
 *   `0.1000000000000000055511151231257827`) is an `ExactNumber` holding the text. So `1.0` and `1` are different
 *   values: "exact" means the text, and the number Vault returns is the number AWS gets.
 * - every object has a null prototype, so `__proto__`, `constructor` or `toString` are keys like any other and a
 *   lookup of an absent key is `undefined`, never an Object.prototype member.
 * The parser is lossless-json's (a maintained, dependency-free parser that hands number text to us); nothing in
 * this module parses JSON by hand.
 */
export class ExactNumber extends LosslessNumber {
  /**
   * For serialisers that are not ours (`JSON.stringify`, oclif's `--json`): the digits as a string, never a
   * rounded number. Secret data is only ever written with `stringifyJson`, which emits the text as a number.
   */
  toJSON(): string {
    return this.value
  }
}

export type JsonValue = string | number | ExactNumber | boolean | null | JsonValue[] | JsonObject
export type JsonObject = {[key: string]: JsonValue}

/** A JSON value with no way to be written exactly (a non-finite number, a function...): that secret fails. */
export class InexactJsonError extends Error {
  override name = 'InexactJsonError'
}

export const isExactNumber = (value: unknown): value is ExactNumber => isLosslessNumber(value)

/** A JSON object (null-prototype or plain), never an array or an `ExactNumber`. */
export const isJsonObject = (value: unknown): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !isLosslessNumber(value)

/**
 * A null-prototype object with fast properties. `Object.create(null)` makes a dictionary-mode object (about 290
 * bytes for five keys where a literal takes about 105); a literal whose prototype is set to null before any key
 * is added stays fast, and the keys that follow (`__proto__` included) are own data properties (issue 12).
 */
export const nullPrototypeObject = (): JsonObject => Object.setPrototypeOf({}, null) as JsonObject

/** A null-prototype JSON object with `entries` as own keys (`__proto__` included). */
export function jsonObject(entries: Iterable<readonly [string, JsonValue]> = []): JsonObject {
  const object = nullPrototypeObject()
  for (const [key, value] of entries) object[key] = value
  return object
}

// The number text a JS number reproduces exactly stays a number, so ordinary data stays ordinary JS.
const parseNumber = (text: string): number | ExactNumber => {
  const number = Number(text)
  return JSON.stringify(number) === text ? number : new ExactNumber(text)
}

/** Deep copy into the model: null-prototype objects, lossless-json numbers as ExactNumber. */
function toModel(value: unknown): JsonValue {
  if (Array.isArray(value)) return value.map(toModel)
  if (isLosslessNumber(value)) return value instanceof ExactNumber ? value : new ExactNumber(value.value)
  if (value !== null && typeof value === 'object') {
    return jsonObject(Object.keys(value).map((key) => [key, toModel((value as Record<string, unknown>)[key])] as const))
  }
  return value as JsonValue
}

/** Detaches every object of a fresh JSON.parse result from Object.prototype, in place. */
function withoutPrototypes(value: unknown): JsonValue {
  if (Array.isArray(value)) for (const item of value) withoutPrototypes(item)
  else if (value !== null && typeof value === 'object') {
    Object.setPrototypeOf(value, null)
    // for-in, not Object.values: no array per object (every Vault read passes through here). A fresh JSON.parse
    // result has only own enumerable keys, and with the prototype gone there is nothing inherited to visit.
    const object = value as Record<string, unknown>
    for (const key in object) withoutPrototypes(object[key])
  }
  return value as JsonValue
}

/**
 * The fast path, with the same result as the lossless one: when JSON.stringify gives back the very text, every
 * number printed back as it was written, no key was a duplicate, and JSON.parse kept `__proto__` as an own key
 * (it defines properties), so nothing was lost. Most secret data is like that; anything else takes the slow path.
 */
function ordinaryParse(text: string): JsonValue | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  return exactParsed(parsed, text)
}

/**
 * `parsed`, a fresh `JSON.parse(text)` result the caller owns, as the model (its objects detached from
 * Object.prototype in place) when it is exact by the rule above; undefined when only {@link parseJson} can read
 * `text` exactly. Lets a caller that already parsed a body (the Vault transport) skip parsing it twice.
 */
export function exactParsed(parsed: unknown, text: string): JsonValue | undefined {
  return JSON.stringify(parsed) === text.trim() ? withoutPrototypes(parsed) : undefined
}

/**
 * Parses JSON text losslessly into the model above. Throws a SyntaxError that gives only the position, never
 * the text around it (it may be a secret value); duplicate keys are an error too, since one of the two values
 * would otherwise be dropped silently.
 */
export function parseJson(text: string): JsonValue {
  const quick = ordinaryParse(text)
  if (quick !== undefined) return quick
  let parsed: unknown
  try {
    parsed = parse(text, null, {parseNumber})
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message)?.[1]
    const what = /^Duplicate key/.test((error as Error).message) ? 'a duplicate object key' : 'invalid JSON'
    throw new SyntaxError(
      `${what}${position === undefined ? '' : ` at position ${position}`} (${text.length} characters)`,
    )
  }
  return toModel(parsed)
}

// JSON.stringify would print NaN and ±Infinity as null: an altered value, so they refuse to serialise.
const refuseNonFinite = [
  {
    test: (value: unknown) => typeof value === 'number' && !Number.isFinite(value),
    stringify: (value: unknown): string => {
      throw new InexactJsonError(`the number ${String(value)} has no JSON form`)
    },
  },
]

// Whether JSON.stringify writes `value` exactly as lossless-json would: only strings, booleans, null, finite
// numbers, arrays and plain or null-prototype objects without a toJSON. Most secret data (and every snapshot
// without ExactNumbers) is, and the native serialiser builds the text without the per-value strings
// lossless-json concatenates, which is most of the garbage a snapshot write leaves (issue 12).
function isOrdinary(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object': {
      if (value === null) return true
      if (Array.isArray(value)) return value.every(isOrdinary)
      const prototype = Object.getPrototypeOf(value) as unknown
      if (prototype !== null && prototype !== Object.prototype) return false
      const object = value as Record<string, unknown>
      if (typeof object.toJSON === 'function') return false
      for (const key in object) if (!isOrdinary(object[key])) return false
      return true
    }
    default:
      return false
  }
}

/**
 * Serialises a JSON value exactly: ExactNumbers as their text, `__proto__` and every other own key included;
 * for values without ExactNumbers the text is the one `JSON.stringify` gives (same escaping, same key order).
 * Throws InexactJsonError for anything JSON cannot hold (NaN, Infinity, undefined at the top).
 */
export function stringifyJson(value: unknown, indent?: number): string {
  if (isOrdinary(value)) return JSON.stringify(value, undefined, indent)
  const text = stringify(value, undefined, indent, refuseNonFinite)
  if (text === undefined) throw new InexactJsonError('the value has no JSON form')
  return text
}
