import {isPlainObject} from '../util/canonical-json.js'
import {parseJson} from '../util/exact-json.js'
import {StoreCorruptError} from './store-errors.js'

/**
 * Parses a stored object's body as a JSON object, losslessly (exact numbers, null-prototype objects: a snapshot
 * holds secret values, an applied record is keyed by secret names). Never quotes the body in the error, only
 * where parsing failed.
 */
export function parseStoredObject(body: string, location: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = parseJson(body)
  } catch {
    throw new StoreCorruptError(location, `not valid JSON (${body.length} characters)`)
  }
  if (!isPlainObject(parsed)) throw new StoreCorruptError(location, 'expected a JSON object')
  return parsed
}

/** A field reader that names the object and field in every complaint. */
export class FieldReader {
  constructor(
    private readonly object: Record<string, unknown>,
    private readonly location: string,
  ) {}

  string(field: string): string {
    const value = this.object[field]
    if (typeof value !== 'string') throw this.invalid(field, 'a string')
    return value
  }

  positiveInteger(field: string): number {
    const value = this.object[field]
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw this.invalid(field, 'a positive integer')
    }
    return value
  }

  /** An ISO 8601 timestamp, as milliseconds since the epoch. */
  time(field: string): number {
    const ms = Date.parse(this.string(field))
    if (Number.isNaN(ms)) throw this.invalid(field, 'an ISO 8601 timestamp')
    return ms
  }

  record(field: string): Record<string, unknown> {
    const value = this.object[field]
    if (!isPlainObject(value)) throw this.invalid(field, 'an object')
    return value
  }

  stringArray(field: string): string[] {
    const value = this.object[field]
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      throw this.invalid(field, 'a list of strings')
    }
    return [...(value as string[])]
  }

  invalid(field: string, expected: string): StoreCorruptError {
    return new StoreCorruptError(this.location, `"${field}" must be ${expected}`)
  }
}

/**
 * A record with no prototype, so looking up a name that is absent (`constructor`, `toString`) gives undefined
 * rather than an Object.prototype member: secret paths and names are user data.
 */
export const ownRecord = <T>(entries: Iterable<readonly [string, T]>): Record<string, T> =>
  Object.setPrototypeOf(Object.fromEntries(entries), null) as Record<string, T>
