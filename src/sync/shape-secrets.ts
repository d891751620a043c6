import type {TargetConfig} from '../config/schema.js'
import {InternalError} from '../errors.js'
import {contentHash, type JsonObject} from '../util/canonical-json.js'
import {
  DEFAULT_NAME_TEMPLATE,
  parseNameTemplate,
  renderName,
  type NameTemplate,
  type NameVariables,
} from './name-template.js'
import type {DesiredSecret} from './plan.js'
import {secretName} from './secret-rules.js'

/**
 * What lands in AWS for a target's desired state: the per-target transformation from relative Vault paths and
 * their JSON objects to Secrets Manager names and values. Pure, one target at a time, so it composes with a
 * pipeline that streams targets.
 */
export interface TargetShape {
  nameTemplate: NameTemplate
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

const DEFAULT_TEMPLATE = (() => {
  const parsed = parseNameTemplate(DEFAULT_NAME_TEMPLATE)
  if (!parsed.ok) throw new Error(parsed.error)
  return parsed.template
})()

export const DEFAULT_SHAPE: TargetShape = {nameTemplate: DEFAULT_TEMPLATE}

/** A target's shape from its config (already checked at load: a template that does not parse is a bug here). */
export function targetShape(target: TargetConfig): TargetShape {
  if (target.name_template === undefined) return {...DEFAULT_SHAPE, ...nameContext(target)}
  const parsed = parseNameTemplate(target.name_template)
  if (!parsed.ok) throw new InternalError(`internal error: name_template of "${target.name}" ${parsed.error}`)
  return {nameTemplate: parsed.template, ...nameContext(target)}
}

const nameContext = (target: TargetConfig): Omit<TargetShape, 'nameTemplate'> => ({
  ...(target.imports.length === 1 && target.imports[0] !== undefined ? {source: target.imports[0]} : {}),
  ...(target.account_name === undefined ? {} : {accountName: target.account_name}),
})

const isDefaultTemplate = (template: NameTemplate): boolean => template.text === DEFAULT_NAME_TEMPLATE

/**
 * The desired secrets of one target, sorted by path. A secret whose name cannot be rendered, lands outside
 * `secret_prefix` (the part of the account the target lists and owns), or shares its name with another path fails
 * alone with a `problem` naming why; it is never written. The name itself is checked later with every other
 * name (nameProblem), so a hostile variable value cannot smuggle in a name AWS or our key space rejects.
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
  const secrets = paths.map((path): DesiredSecret => {
    const value = desired.get(path) as JsonObject
    const hash = contentHash(value)
    // The default keeps the guarded prefix + path builder, so today's names stay what they were, byte for byte.
    if (isDefaultTemplate(shape.nameTemplate)) return {path, name: secretName(context.prefix, path), value, hash}
    const rendered = renderName(shape.nameTemplate, {...fixed, path})
    if ('error' in rendered) return {path, name: path, value, hash, problem: rendered.error}
    const {name} = rendered
    const problem = name.startsWith(context.prefix)
      ? undefined
      : `the name template renders "${name}", outside secret_prefix "${context.prefix}" (the names this target owns)`
    return {path, name, value, hash, ...(problem ? {problem} : {})}
  })
  return withCollisions(secrets)
}

/** Two paths rendered to one name: both fail, each naming the other, and neither is written. */
function withCollisions(secrets: DesiredSecret[]): DesiredSecret[] {
  const byName = new Map<string, string[]>()
  for (const secret of secrets) byName.set(secret.name, [...(byName.get(secret.name) ?? []), secret.path])
  return secrets.map((secret) => {
    const paths = byName.get(secret.name) ?? []
    if (paths.length < 2) return secret
    const others = paths.filter((path) => path !== secret.path)
    return {
      ...secret,
      problem: `the name "${secret.name}" is also rendered for ${others.map((p) => `"${p}"`).join(', ')}; two secrets cannot share a name (not written)`,
    }
  })
}
