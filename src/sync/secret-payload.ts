import {contentHash, isPlainObject, jsonEqual, secretHash, type JsonObject} from '../util/canonical-json.js'
import {stringifyJson} from '../util/exact-json.js'
import {MAX_SECRET_BYTES, sizeProblem} from './secret-rules.js'

/**
 * What a secret holds in Secrets Manager besides the default JSON object (`format: raw | binary`): a plain
 * SecretString, or SecretBinary bytes. Equality is exact: raw text byte for byte, binary byte for byte.
 */
export type SecretPayload = {string: string} | {binary: Uint8Array}

/** A secret's value as read from AWS: the parsed JSON (as before), plus the raw text or bytes. */
export interface ReadValue {
  value?: JsonObject | string
  text?: string
  binary?: Uint8Array
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

/** The hash recorded as applied: the JSON object's canonical hash (as always), or one per payload kind. */
export const payloadHash = (value: JsonObject, payload: SecretPayload | undefined): string =>
  payload === undefined
    ? secretHash(value)
    : 'string' in payload
      ? contentHash(payload.string)
      : contentHash(['binary', base64(payload.binary)])

/** The same hash of what AWS holds, to tell drift (someone else wrote it) from a stale record. */
export function currentHash(current: ReadValue, payload: SecretPayload | undefined): string {
  if (payload !== undefined && 'string' in payload) return contentHash(current.text ?? '')
  if (current.binary !== undefined) return contentHash(['binary', base64(current.binary)])
  return contentHash(current.value ?? '')
}

/** Whether AWS already holds the desired value. */
export function holdsValue(current: ReadValue, value: JsonObject, payload: SecretPayload | undefined): boolean {
  if (payload === undefined)
    return current.binary === undefined && isPlainObject(current.value) && jsonEqual(current.value, value)
  if ('string' in payload) return current.binary === undefined && current.text === payload.string
  return current.binary !== undefined && Buffer.from(current.binary).equals(Buffer.from(payload.binary))
}

/** SecretString / SecretBinary for CreateSecret and PutSecretValue. */
export const secretValueFields = (
  value: JsonObject,
  payload: SecretPayload | undefined,
): {SecretString: string} | {SecretBinary: Uint8Array} =>
  payload === undefined
    ? {SecretString: stringifyJson(value)}
    : 'string' in payload
      ? {SecretString: payload.string}
      : {SecretBinary: payload.binary}

/** Why the value cannot be stored (AWS: 65,536 bytes for either kind), or undefined. */
export function payloadSizeProblem(value: JsonObject, payload: SecretPayload | undefined): string | undefined {
  if (payload === undefined) return sizeProblem(stringifyJson(value))
  if ('string' in payload) return sizeProblem(payload.string)
  const bytes = payload.binary.length
  return bytes > MAX_SECRET_BYTES ? `the value is ${bytes} bytes; AWS allows at most ${MAX_SECRET_BYTES}` : undefined
}

/** What --show-values prints for a value: the JSON object, or `{raw}` / `{binary: <base64>}`. */
export function shownValue(current: ReadValue | undefined, payload: SecretPayload | undefined): JsonObject | null {
  if (current === undefined) return null
  if (current.binary !== undefined) return {binary: base64(current.binary)}
  if (payload !== undefined && 'string' in payload) return {raw: current.text ?? ''}
  if (isPlainObject(current.value)) return current.value
  return current.value === undefined ? null : {raw: current.value}
}

export const shownPayload = (value: JsonObject, payload: SecretPayload | undefined): JsonObject =>
  payload === undefined ? value : 'string' in payload ? {raw: payload.string} : {binary: base64(payload.binary)}
