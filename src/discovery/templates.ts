import type {DiscoveryConfig, TargetConfig} from '../config/schema.js'
import {TemplateError} from './errors.js'
import type {DiscoveredAccount} from './types.js'

export type TargetTemplate = DiscoveryConfig['target']
export type TemplateAccount = Pick<DiscoveredAccount, 'id' | 'name' | 'ouId' | 'tags'>

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/

/**
 * Renders `{{account_id}}`, `{{account_name}}`, `{{ou_id}}` and `{{tags.Key}}` for one account. A missing tag or OU,
 * an unknown placeholder or unbalanced braces are TemplateErrors naming the account and what is missing.
 */
export function renderTemplateString(template: string, account: TemplateAccount): string {
  if (/\{\{|\}\}/.test(template.replace(PLACEHOLDER, ''))) {
    throw new TemplateError(`template "${template}" has unbalanced {{ }}`)
  }
  return template.replace(PLACEHOLDER, (_, expression: string) => {
    if (expression === 'account_id') return account.id
    if (expression === 'account_name') return account.name
    if (expression === 'ou_id') {
      if (account.ouId === undefined) {
        throw new TemplateError(
          `account ${account.id} (${account.name}) has no known OU for {{ou_id}}: add an ou filter so discovery walks to it`,
        )
      }
      return account.ouId
    }
    if (expression.startsWith('tags.')) {
      const key = expression.slice('tags.'.length)
      const value = account.tags?.[key]
      if (value === undefined)
        throw new TemplateError(`account ${account.id} (${account.name}) has no tag "${key}" for {{tags.${key}}}`)
      return value
    }
    throw new TemplateError(`unknown placeholder {{${expression}}}: use account_id, account_name, ou_id or tags.<Key>`)
  })
}

/**
 * Target names use `[A-Za-z0-9_.-]`: anything else becomes `-`, runs of `-` collapse, leading/trailing `-` go.
 * A name is a folder of the merge store, so one that ends up empty, `.` or `..` (an account named `..`) becomes
 * `_<account id>`, the same suffix name collisions get.
 */
export function sanitizeTargetName(raw: string, accountId: string): string {
  const name = raw
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
  return name === '' || name === '.' || name === '..' ? `_${accountId}` : name
}

/** Whether any templated field reads `{{tags.…}}` (then tags must be looked up). */
export const templateReadsTags = (template: TargetTemplate): boolean =>
  templatedStrings(template).some((text) => /\{\{\s*tags\./.test(text))

const templatedStrings = (template: TargetTemplate): string[] => [
  template.name,
  template.role_arn ?? '',
  ...template.imports,
  ...Object.values(template.tags),
]

/**
 * The target one account becomes: `name` (sanitised, before collisions are resolved), `role_arn`, `imports` and
 * tag values rendered; everything else copied (the schema keeps placeholders out of `secret_prefix`). `account_id` is always set, so without `role_arn`
 * the target uses `aws.role_pattern` and its identity is checked against the account.
 */
export function renderTarget(template: TargetTemplate, account: TemplateAccount): TargetConfig {
  const render = (text: string): string => renderTemplateString(text, account)
  const name = sanitizeTargetName(render(template.name), account.id)
  const roleArn = template.role_arn === undefined ? undefined : render(template.role_arn)
  if (roleArn !== undefined && !ROLE_ARN.test(roleArn)) {
    throw new TemplateError(
      `role_arn "${template.role_arn}" renders to "${roleArn}" for account ${account.id}, which is not an IAM role ARN`,
    )
  }
  return {
    name,
    type: 'aws_secretsmanager',
    account_id: account.id,
    account_name: account.name,
    ...(roleArn === undefined ? {} : {role_arn: roleArn}),
    ...(template.region === undefined ? {} : {region: template.region}),
    imports: template.imports.map(render),
    overrides: structuredClone(template.overrides),
    secret_prefix: template.secret_prefix,
    tags: Object.fromEntries(Object.entries(template.tags).map(([key, value]) => [key, render(value)])),
    ...(template.kms_key_id === undefined ? {} : {kms_key_id: template.kms_key_id}),
    ...(template.external_id === undefined ? {} : {external_id: template.external_id}),
    // Rendered per secret at sync time ({{path}}, {{account_name}} …), not here.
    ...(template.name_template === undefined ? {} : {name_template: template.name_template}),
    ...(template.granularity === undefined ? {} : {granularity: template.granularity}),
    ...(template.format === undefined ? {} : {format: template.format}),
    ...(template.replica_regions === undefined ? {} : {replica_regions: structuredClone(template.replica_regions)}),
    ...(template.rotation === undefined ? {} : {rotation: template.rotation}),
    // Rendered at sync time ({{account_id}}, {{account_name}} …), like name_template.
    ...(template.resource_policy === undefined ? {} : {resource_policy: structuredClone(template.resource_policy)}),
    ...(template.import_selections === undefined
      ? {}
      : {import_selections: template.import_selections.map((entry) => ({...entry, name: render(entry.name)}))}),
  }
}

export interface NamedTarget {
  /** Sanitised name from the template. */
  name: string
  accountId: string
  /** The discovery block it came from, for error messages. */
  block: string
}

export type ResolvedName = {name: string} | {error: string}

/**
 * Final names for discovered targets, in input order. Every discovered name shared by two accounts, or equal to a
 * reserved name (static targets, sources), gets `_<account id>` appended, all of them, repeated until no name
 * collides, so the outcome does not depend on input order. One account given the same name by two blocks cannot be
 * told apart: those entries get an error instead of a name.
 */
export function resolveNameCollisions(targets: readonly NamedTarget[], reserved: Iterable<string>): ResolvedName[] {
  const taken = new Set(reserved)
  const names = targets.map((target) => target.name)
  const failed = new Map<number, string>()
  const accountOf = (index: number): string => targets[index]?.accountId ?? ''
  const collisions = (): Array<[string, number[]]> => {
    const holders = new Map<string, number[]>()
    names.forEach((name, index) => {
      if (!failed.has(index)) holders.set(name, [...(holders.get(name) ?? []), index])
    })
    return [...holders].filter(([name, indexes]) => indexes.length > 1 || taken.has(name))
  }
  // Each round lengthens every colliding name by a distinct account id, so a few rounds settle any input.
  for (let round = 0; round < 8; round++) {
    const colliding = collisions()
    if (colliding.length === 0) break
    for (const [name, indexes] of colliding) {
      for (const index of indexes) {
        const same = indexes.filter((other) => accountOf(other) === accountOf(index))
        if (same.length > 1) {
          const blocks = same.map((other) => `"${targets[other]?.block}"`).join(' and ')
          failed.set(
            index,
            `discovery blocks ${blocks} all name account ${accountOf(index)}'s target "${name}": give their target templates distinct names`,
          )
        } else {
          names[index] = `${name}_${accountOf(index)}`
        }
      }
    }
  }
  for (const [name, indexes] of collisions()) {
    for (const index of indexes) failed.set(index, `target name "${name}" still collides after appending account ids`)
  }
  return names.map((name, index) => {
    const error = failed.get(index)
    return error === undefined ? {name} : {error}
  })
}
