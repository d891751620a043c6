import type {TargetConfig} from '../config/schema.js'
import {InternalError} from '../errors.js'
import type {JsonObject, JsonValue} from '../util/canonical-json.js'
import {jsonObject, stringifyJson} from '../util/exact-json.js'
import {
  DEFAULT_KEY_NAME_TEMPLATE,
  DEFAULT_NAME_TEMPLATE,
  parseNameTemplate,
  renderName,
  type NameTemplate,
  type NameVariables,
} from './name-template.js'
import type {DesiredSecret} from './plan.js'
import {secretName} from './secret-rules.js'
import {payloadHash, type SecretPayload} from './secret-payload.js'
import {replicaRegionOf, type ReplicaRegion} from './replicas.js'

/**
 * What lands in AWS for a target's desired state: the per-target transformation from relative Vault paths and
 * their JSON objects to Secrets Manager names and values. Pure, one target at a time, so it composes with a
 * pipeline that streams targets.
 */
export interface TargetShape {
  nameTemplate: NameTemplate
  /** `key`: every top-level key of a Vault secret becomes its own AWS secret. Default `path`. */
  granularity?: 'path' | 'key'
  /** `raw`: a plain SecretString; `binary`: a base64 value as SecretBinary. Default `json`. */
  format?: 'json' | 'raw' | 'binary'
  /** A secret with rotation enabled in AWS: `skip` (default) leaves it alone, `overwrite` writes it anyway. */
  rotation?: 'skip' | 'overwrite'
  /** Regions Secrets Manager keeps a read-only replica of every secret in (README "Replica regions"). */
  replicaRegions?: readonly ReplicaRegion[]
  /** The target's only import, for `{{source}}`. */
  source?: string
  /** The account's name (discovered targets, or `account_name` on a static one), for `{{account_name}}`. */
  accountName?: string
}

/** The variables that are the same for every secret of a target. */
export interface TargetNameContext {
  target: string
  prefix: string
  accountId: string
  region: string
}

function builtIn(text: string): NameTemplate {
  const parsed = parseNameTemplate(text)
  if (!parsed.ok) throw new InternalError(`internal error: built-in name template ${text} ${parsed.error}`)
  return parsed.template
}

export const DEFAULT_SHAPE: TargetShape = {nameTemplate: builtIn(DEFAULT_NAME_TEMPLATE)}

/** A target's shape from its config (already checked at load: a template that does not parse is a bug here). */
export function targetShape(target: TargetConfig): TargetShape {
  const text =
    target.name_template ?? (target.granularity === 'key' ? DEFAULT_KEY_NAME_TEMPLATE : DEFAULT_NAME_TEMPLATE)
  const parsed = parseNameTemplate(text)
  if (!parsed.ok) throw new InternalError(`internal error: name_template of "${target.name}" ${parsed.error}`)
  return {nameTemplate: parsed.template, ...nameContext(target)}
}

const nameContext = (target: TargetConfig): Omit<TargetShape, 'nameTemplate'> => ({
  ...(target.granularity === undefined ? {} : {granularity: target.granularity}),
  ...(target.format === undefined ? {} : {format: target.format}),
  ...(target.rotation === undefined ? {} : {rotation: target.rotation}),
  ...(target.replica_regions === undefined || target.replica_regions.length === 0
    ? {}
    : {replicaRegions: target.replica_regions.map(replicaRegionOf)}),
  ...(target.imports.length === 1 && target.imports[0] !== undefined ? {source: target.imports[0]} : {}),
  ...(target.account_name === undefined ? {} : {accountName: target.account_name}),
})

const isDefaultTemplate = (template: NameTemplate): boolean => template.text === DEFAULT_NAME_TEMPLATE

/** One AWS secret to be: a Vault path, or one top-level key of it (granularity key), and its JSON form. */
interface Unit {
  path: string
  key?: string
  value: JsonObject
  /** The key's value (granularity key) or the only key's value (path, raw/binary). */
  single?: JsonValue
  problem?: string
}

function unitsOf(path: string, secret: JsonObject, shape: TargetShape): Unit[] {
  if (shape.granularity === 'key')
    return Object.keys(secret).map((key) => ({
      path,
      key,
      value: jsonObject([[key, secret[key] as JsonValue]]),
      single: secret[key],
    }))
  if ((shape.format ?? 'json') === 'json') return [{path, value: secret}]
  const keys = Object.keys(secret)
  if (keys.length !== 1)
    return [
      {
        path,
        value: secret,
        problem: `format ${shape.format} takes the value of a single-key secret; this one has ${keys.length} keys (use granularity: key for one secret per key)`,
      },
    ]
  return [{path, value: secret, single: secret[keys[0] as string]}]
}

// Strict base64 (RFC 4648, padded): Buffer.from would silently skip what is not base64.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** The payload of a unit in its target's format, or why it cannot have one. */
function payloadOf(unit: Unit, shape: TargetShape): {payload?: SecretPayload; problem?: string} {
  const format = shape.format ?? 'json'
  if (format === 'json' || unit.single === undefined) return {}
  const single = unit.single
  if (format === 'raw') return {payload: {string: typeof single === 'string' ? single : stringifyJson(single)}}
  if (typeof single !== 'string' || single === '' || !BASE64.test(single))
    return {problem: 'format binary needs a base64 string (RFC 4648, padded); this value is not one (not written)'}
  return {payload: {binary: new Uint8Array(Buffer.from(single, 'base64'))}}
}

/**
 * The desired secrets of one target, sorted by path (and key). A secret whose name cannot be rendered, lands
 * outside `secret_prefix` (the part of the account the target lists and owns), shares its name with another, or
 * has no value in the target's format fails alone with a `problem` naming why; it is never written. The name
 * itself is checked later with every other name (nameProblem), so a hostile variable value (a path, a key, an
 * account name) cannot smuggle in a name AWS or our key space rejects.
 */
export function shapeSecrets(
  desired: ReadonlyMap<string, JsonObject>,
  shape: TargetShape,
  context: TargetNameContext,
): DesiredSecret[] {
  const fixed: NameVariables = {
    secret_prefix: context.prefix,
    target: context.target,
    account_id: context.accountId,
    region: context.region,
    ...(shape.source === undefined ? {} : {source: shape.source}),
    ...(shape.accountName === undefined ? {} : {account_name: shape.accountName}),
  }
  const paths = [...desired.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const secrets = paths.flatMap((path) =>
    unitsOf(path, desired.get(path) as JsonObject, shape).map((unit): DesiredSecret => {
      const {payload, problem: valueProblem} = unit.problem ? {problem: unit.problem} : payloadOf(unit, shape)
      const named = nameOf(unit, shape, fixed, context)
      const problem = named.problem ?? valueProblem
      // One object per secret, optional fields set only when present: a target has thousands (issue 12).
      const secret: DesiredSecret = {path, name: named.name, value: unit.value, hash: payloadHash(unit.value, payload)}
      if (unit.key !== undefined) secret.key = unit.key
      if (payload !== undefined) secret.payload = payload
      if (problem !== undefined) secret.problem = problem
      return secret
    }),
  )
  return withCollisions(secrets)
}

function nameOf(
  unit: Unit,
  shape: TargetShape,
  fixed: NameVariables,
  context: TargetNameContext,
): {name: string; problem?: string} {
  // The default keeps the guarded prefix + path builder, so today's names stay what they were, byte for byte.
  if (isDefaultTemplate(shape.nameTemplate) && unit.key === undefined)
    return {name: secretName(context.prefix, unit.path)}
  const rendered = renderName(shape.nameTemplate, {
    ...fixed,
    path: unit.path,
    ...(unit.key === undefined ? {} : {key: unit.key}),
  })
  if ('error' in rendered) return {name: unit.path, problem: rendered.error}
  const {name} = rendered
  return name.startsWith(context.prefix)
    ? {name}
    : {
        name,
        problem: `the name template renders "${name}", outside secret_prefix "${context.prefix}" (the names this target owns)`,
      }
}

const describeUnit = (secret: DesiredSecret): string =>
  secret.key === undefined ? `"${secret.path}"` : `"${secret.path}" key "${secret.key}"`

/** Two secrets rendered to one name: both fail, each naming the other, and neither is written. */
function withCollisions(secrets: DesiredSecret[]): DesiredSecret[] {
  const byName = new Map<string, DesiredSecret[]>()
  for (const secret of secrets) {
    const sharing = byName.get(secret.name)
    if (sharing) sharing.push(secret)
    else byName.set(secret.name, [secret])
  }
  return secrets.map((secret) => {
    const sharing = byName.get(secret.name) ?? []
    if (sharing.length < 2) return secret
    const others = sharing.filter((other) => other !== secret)
    return {
      ...secret,
      problem: `the name "${secret.name}" is also rendered for ${others.map(describeUnit).join(', ')}; two secrets cannot share a name (not written)`,
    }
  })
}
