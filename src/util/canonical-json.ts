import {createHash} from 'node:crypto'

export type JsonValue = string | number | boolean | null | JsonValue[] | {[key: string]: JsonValue}
export type JsonObject = {[key: string]: JsonValue}

/** JSON with object keys sorted at every level, so equal documents serialise (and hash) identically. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      const sorted: Record<string, unknown> = {}
      for (const key of Object.keys(item).sort()) sorted[key] = (item as Record<string, unknown>)[key]
      return sorted
    }
    return item
  })
}

/** sha256 of the canonical JSON, hex: the identity of a secret's content regardless of key order. */
export const contentHash = (value: unknown): string => createHash('sha256').update(canonicalJson(value)).digest('hex')

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
