import {canonicalJson, contentHash, isPlainObject, type JsonObject, type JsonValue} from '../util/canonical-json.js'
import {parseNameTemplate, renderName, templateVariables, type NameVariables} from './name-template.js'

/**
 * `resource_policy` on a target (README "Resource policy"): the document, its `{{variables}}`, how two policies are
 * compared (AWS hands back a reformatted document), and what secretsync does about one secret's policy. Pure.
 */

/** Carried by every secret whose policy secretsync put: the hash of that policy (normalised), so drift is visible. */
export const POLICY_TAG = 'secretsync:resource-policy'
/** PutResourcePolicy's `ResourcePolicy` length limit (API reference). */
export const MAX_POLICY_LENGTH = 20_480
/** The name-template variables a policy may use: what is the same for every secret of the target. */
export const POLICY_VARIABLES = ['target', 'account_id', 'account_name', 'region'] as const

/** The target's policy, rendered for the account it syncs to. */
export interface DesiredPolicy {
  /** What PutResourcePolicy is sent. */
  text: string
  /** `policyHash` of it: the value of POLICY_TAG once put. */
  hash: string
}

/** Why `document` is not a policy secretsync will send, or undefined. */
export function policyDocumentProblem(document: unknown): string | undefined {
  if (!isPlainObject(document)) return 'must be a JSON object (a policy document with Version and Statement)'
  if (typeof document.Version !== 'string') return 'needs "Version" (e.g. "2012-10-17")'
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement]
  if (document.Statement === undefined || statements.length === 0 || !statements.every(isPlainObject))
    return 'needs "Statement": a statement object or a non-empty list of them'
  const length = JSON.stringify(document).length
  if (length > MAX_POLICY_LENGTH)
    return `is ${length} characters as JSON; Secrets Manager allows at most ${MAX_POLICY_LENGTH}`
  return undefined
}

const strings = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.flatMap(strings)
      : isPlainObject(value)
        ? Object.values(value).flatMap(strings)
        : []

/** Template problems of a policy's strings: unparsable `{{ }}`, or variables a policy cannot have. */
export function policyTemplateProblems(document: JsonObject, hasAccountName: boolean): string[] {
  const problems = new Set<string>()
  for (const text of strings(document)) {
    if (!text.includes('{{') && !text.includes('}}')) continue
    const parsed = parseNameTemplate(text)
    if (!parsed.ok) {
      problems.add(`"${text}" ${parsed.error}`)
      continue
    }
    for (const variable of templateVariables(parsed.template)) {
      if (!(POLICY_VARIABLES as readonly string[]).includes(variable))
        problems.add(`{{${variable}}} differs per secret; a resource policy may use ${POLICY_VARIABLES.join(', ')}`)
      else if (variable === 'account_name' && !hasAccountName)
        problems.add('{{account_name}} is known for discovered targets, or set account_name on this target')
    }
  }
  return [...problems]
}

function renderValue(value: unknown, variables: NameVariables): JsonValue {
  if (typeof value === 'string') {
    if (!value.includes('{{')) return value
    const parsed = parseNameTemplate(value)
    if (!parsed.ok) throw new Error(`resource_policy: "${value}" ${parsed.error}`)
    const rendered = renderName(parsed.template, variables)
    if ('error' in rendered) throw new Error(`resource_policy: ${rendered.error}`)
    return rendered.name
  }
  if (Array.isArray(value)) return value.map((item) => renderValue(item, variables))
  if (isPlainObject(value))
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderValue(item, variables)]))
  return value as JsonValue
}

/** The policy for one target and account: `{{variables}}` rendered in every string value. Throws on a gap. */
export function renderPolicy(template: JsonObject, variables: NameVariables): DesiredPolicy {
  const document = renderValue(template, variables) as JsonObject
  return {text: JSON.stringify(document), hash: policyHash(document)}
}

// Members IAM reads as sets of strings: a single string equals a one-element list, order and repeats do not count.
const SET_MEMBERS = new Set(['Action', 'NotAction', 'Resource', 'NotResource'])
const ACCOUNT_ROOT = /^arn:aws[a-z-]*:iam::(\d{12}):root$/

const setOf = (value: unknown, each: (item: unknown) => unknown = (item) => item): JsonValue[] => {
  const items = (Array.isArray(value) ? value : [value]).map(each)
  const byText = new Map(items.map((item) => [canonicalJson(item), item as JsonValue]))
  return [...byText.keys()].sort().map((key) => byText.get(key) as JsonValue)
}

// AWS stores an account principal as `arn:<partition>:iam::<id>:root` whichever way it was written.
const principalRef = (item: unknown): unknown =>
  typeof item === 'string' ? (ACCOUNT_ROOT.exec(item)?.[1] ?? item) : item

function normalStatement(statement: unknown): unknown {
  if (!isPlainObject(statement)) return statement
  return Object.fromEntries(
    Object.entries(statement).map(([key, value]) => {
      if (SET_MEMBERS.has(key)) return [key, setOf(value)]
      if ((key === 'Principal' || key === 'NotPrincipal') && isPlainObject(value))
        return [key, Object.fromEntries(Object.entries(value).map(([kind, ids]) => [kind, setOf(ids, principalRef)]))]
      if (key === 'Condition' && isPlainObject(value))
        return [
          key,
          Object.fromEntries(
            Object.entries(value).map(([operator, keys]) => [
              operator,
              isPlainObject(keys)
                ? Object.fromEntries(Object.entries(keys).map(([name, values]) => [name, setOf(values, String)]))
                : keys,
            ]),
          ),
        ]
      return [key, value]
    }),
  )
}

/**
 * One comparable form of a policy document: what IAM treats alike is written alike. Statements, actions, resources,
 * principals and condition values are sets; an account id principal equals its root ARN; condition values are
 * strings. Whitespace and key order never count (the document is compared parsed).
 */
export function normalizePolicy(document: unknown): unknown {
  if (!isPlainObject(document)) return document
  return document.Statement === undefined
    ? document
    : {...document, Statement: setOf(document.Statement, normalStatement)}
}

export const policyHash = (document: unknown): string => contentHash(normalizePolicy(document))

/** A policy as GetResourcePolicy returned it, parsed; the text itself when it is not JSON. */
export function parsePolicyText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

/** What to do about one secret's resource policy; only what differs is written. */
export interface PolicyPlan {
  policy?: 'set' | 'updated' | 'removed'
  drift: boolean
  /** The policy is not secretsync's and the run may not take it over: the secret is a conflict. */
  conflict?: string
  /** Tag changes to report: POLICY_TAG added, changed or removed. */
  tag?: 'added' | 'changed' | 'removed'
  writes?: PolicyWrites
}

export interface PolicyWrites {
  /** PutResourcePolicy (BlockPublicPolicy: true) with this text. */
  put?: string
  /** DeleteResourcePolicy. */
  delete?: boolean
  /** TagResource POLICY_TAG=this, after the put. */
  tag?: string
  /** UntagResource POLICY_TAG. */
  untag?: boolean
}

export const NO_POLICY_CHANGE: PolicyPlan = {drift: false}

/**
 * One secret's policy: the desired one (undefined: the target sets none) against the current one (null: none;
 * undefined: not read — a secret being restored) and POLICY_TAG, which says secretsync put the policy it hashes.
 * A secret carrying the tag has its policy managed by secretsync: changed elsewhere it is drift and put back, and it
 * is deleted once the target no longer sets one. A policy on a secret without the tag was not set by secretsync: it
 * is never replaced or deleted unless `adopt`.
 */
export function planPolicy(
  desired: DesiredPolicy | undefined,
  current: string | null | undefined,
  tag: string | undefined,
  adopt: boolean,
): PolicyPlan {
  // The everyday case, first and without allocating: no policy wanted, none secretsync set.
  if (desired === undefined && tag === undefined) return NO_POLICY_CHANGE
  const currentHash = typeof current === 'string' ? policyHash(parsePolicyText(current)) : undefined
  const tagChange = (hash: string): PolicyPlan['tag'] =>
    tag === undefined ? 'added' : tag === hash ? undefined : 'changed'
  if (desired === undefined) {
    if (current === null) return {drift: false, tag: 'removed', writes: {untag: true}}
    // Not read (a secret being restored): the tag alone says the policy is secretsync's to delete.
    const drift = current !== undefined && currentHash !== tag
    return {policy: 'removed', drift, tag: 'removed', writes: {delete: true, untag: true}}
  }
  if (currentHash === desired.hash) {
    const change = tagChange(desired.hash)
    return change === undefined ? NO_POLICY_CHANGE : {drift: false, tag: change, writes: {tag: desired.hash}}
  }
  const put = {drift: false, tag: tagChange(desired.hash), writes: {put: desired.text, tag: desired.hash}}
  if (current === undefined) return {...put, policy: 'set'}
  if (current === null) return {...put, policy: 'set', drift: tag !== undefined}
  if (tag === undefined && !adopt)
    return {
      drift: false,
      conflict:
        'has a resource policy secretsync did not set; not replaced (use --adopt or sync.adopt to take it over)',
    }
  return {...put, policy: 'updated', drift: tag !== undefined && tag !== currentHash}
}
