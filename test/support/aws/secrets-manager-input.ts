import {MAX_NAME_LENGTH, MAX_VALUE_BYTES, NAME_PATTERN, type SecretPayload, type Tag} from './secrets-manager-state.js'
import {AwsError} from './types.js'

/**
 * Readers for Secrets Manager request members. Violations of the API model's constraints (required, length,
 * range, enum) are `ValidationException`s worded like AWS's; service rules are `InvalidParameterException`s.
 * Messages never repeat a secret value.
 */

type Json = Record<string, unknown>

/** `SecretId` → `secretId`, the spelling AWS uses in validation messages. */
const member = (field: string): string => field.charAt(0).toLowerCase() + field.slice(1)

export const validationError = (message: string): AwsError =>
  new AwsError('ValidationException', `1 validation error detected: ${message}`)

export const notFound = (): AwsError =>
  new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.")

export const markedForDeletion = (): AwsError =>
  new AwsError(
    'InvalidRequestException',
    "You can't perform this operation on the secret because it was marked for deletion.",
  )

export const invalidParameter = (message: string): AwsError => new AwsError('InvalidParameterException', message)

const wrongType = (field: string, type: string): AwsError =>
  new AwsError('SerializationException', `${field} must be a ${type}`)

interface Bounds {
  min?: number
  max?: number
}

function checkLength(field: string, length: number, {min, max}: Bounds): void {
  if (min !== undefined && length < min) {
    throw validationError(
      `Value at '${member(field)}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`,
    )
  }
  if (max !== undefined && length > max) {
    throw validationError(
      `Value at '${member(field)}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    )
  }
}

export function optString(json: Json, field: string, bounds: Bounds = {}): string | undefined {
  const value = json[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw wrongType(field, 'string')
  checkLength(field, value.length, bounds)
  return value
}

export function reqString(json: Json, field: string, bounds: Bounds = {}): string {
  const value = optString(json, field, bounds)
  if (value === undefined) {
    throw validationError(`Value null at '${member(field)}' failed to satisfy constraint: Member must not be null`)
  }
  return value
}

export function optInt(json: Json, field: string, {min, max}: Bounds = {}): number | undefined {
  const value = json[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType(field, 'number')
  if (min !== undefined && value < min) {
    throw validationError(
      `Value '${value}' at '${member(field)}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`,
    )
  }
  if (max !== undefined && value > max) {
    throw validationError(
      `Value '${value}' at '${member(field)}' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    )
  }
  return value
}

export function optBool(json: Json, field: string): boolean | undefined {
  const value = json[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'boolean') throw wrongType(field, 'boolean')
  return value
}

export function optStringList(json: Json, field: string, bounds: Bounds = {}): string[] | undefined {
  const value = json[field]
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw wrongType(field, 'list of strings')
  checkLength(field, value.length, bounds)
  return value as string[]
}

export function optEnum<T extends string>(json: Json, field: string, allowed: readonly T[]): T | undefined {
  const value = optString(json, field)
  if (value === undefined) return undefined
  if (!(allowed as readonly string[]).includes(value)) {
    throw validationError(
      `Value '${value}' at '${member(field)}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`,
    )
  }
  return value as T
}

export const readSecretId = (json: Json): string => reqString(json, 'SecretId', {min: 1, max: 2048})

/** `ClientRequestToken` (32–64 characters); the SDKs always send one, generated when the caller gave none. */
export const readToken = (json: Json): string | undefined => optString(json, 'ClientRequestToken', {min: 32, max: 64})

/** CreateSecret `Name`: length is a model constraint, the character set a service rule. */
export function readName(json: Json): string {
  const name = reqString(json, 'Name', {min: 1, max: MAX_NAME_LENGTH})
  if (!NAME_PATTERN.test(name)) {
    throw invalidParameter(
      'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
    )
  }
  return name
}

/** `SecretString` / `SecretBinary`: at most one, each at most 65,536 bytes. */
export function readPayload(json: Json): SecretPayload | undefined {
  const string = optString(json, 'SecretString')
  const binary = optString(json, 'SecretBinary')
  if (string !== undefined && binary !== undefined) {
    throw invalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.")
  }
  if (string !== undefined) {
    checkLength('SecretString', Buffer.byteLength(string, 'utf8'), {min: 1, max: MAX_VALUE_BYTES})
    return {string}
  }
  if (binary !== undefined) {
    checkLength('SecretBinary', Buffer.from(binary, 'base64').length, {min: 1, max: MAX_VALUE_BYTES})
    return {binary}
  }
  return undefined
}

export function readTags(json: Json, field = 'Tags'): Tag[] | undefined {
  const value = json[field]
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) throw wrongType(field, 'list')
  return value.map((entry: unknown) => {
    const tag = (entry ?? {}) as Json
    const key = reqString(tag, 'Key', {min: 1, max: 128})
    const tagValue = optString(tag, 'Value', {max: 256}) ?? ''
    return {Key: key, Value: tagValue}
  })
}
