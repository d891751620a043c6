import {
  DEFAULT_NAME_TEMPLATE,
  parseNameTemplate,
  renderName,
  templateVariables,
  type NameTemplate,
  type NameVariables,
} from '../sync/name-template.js'
import {looksLikeArnSuffix, nameProblem} from '../sync/secret-rules.js'
import {formatPath, type KeyPath} from './locate.js'
import type {Config} from './schema.js'
import {targetSites, type SemanticIssue} from './target-sites.js'

/**
 * The config side of `name_template` (README "Secret names"): each template parsed, and checked against what its
 * target can give it. Rendered names are checked again per secret at sync time (variable values are untrusted);
 * these checks catch what every secret would get wrong.
 */

interface TemplateSite {
  /** Key path of the target (or discovery target template). */
  at: KeyPath
  template: string | undefined
  prefix: string
  imports: readonly string[]
  granularity: 'path' | 'key'
  /** Whether `{{account_name}}` has a value: discovered targets, or a static target with `account_name`. */
  hasAccountName: boolean
}

const sites = (config: Config): TemplateSite[] =>
  targetSites(config).map(({at, target, hasAccountName}) => ({
    at,
    template: target.name_template,
    prefix: target.secret_prefix,
    imports: target.imports,
    granularity: target.granularity ?? 'path',
    hasAccountName,
  }))

/** A name for every variable, as a stand-in to see what the template's literal text makes of names. */
const SAMPLE: Required<NameVariables> = {
  secret_prefix: '',
  path: 'p',
  key: 'k',
  source: 's',
  target: 't',
  account_id: '123456789012',
  account_name: 'n',
  region: 'us-east-1',
}

function checkSite(site: TemplateSite, template: NameTemplate): string[] {
  const variables = templateVariables(template)
  const problems: string[] = []
  if (!variables.has('path'))
    problems.push('must use {{path}}: without it every secret of the target gets the same name')
  if (variables.has('key') && site.granularity !== 'key') problems.push('{{key}} is only known with granularity: key')
  if (!variables.has('key') && site.granularity === 'key')
    problems.push('must use {{key}} with granularity: key: without it every key of a secret gets the same name')
  if (variables.has('source') && site.imports.length !== 1)
    problems.push(`{{source}} needs a target with exactly one import (this one has ${site.imports.length})`)
  if (variables.has('account_name') && !site.hasAccountName)
    problems.push('{{account_name}} is known for discovered targets, or set account_name on this target')
  const sample = renderName(template, {...SAMPLE, secret_prefix: site.prefix})
  if ('name' in sample) {
    const problem = nameProblem(sample.name)
    if (problem !== undefined)
      problems.push(`renders names AWS or secretsync reject (e.g. "${sample.name}": ${problem})`)
    else if (!sample.name.startsWith(site.prefix))
      problems.push(
        `renders names outside secret_prefix "${site.prefix}" (e.g. "${sample.name}"); the prefix scopes what the target lists and owns`,
      )
  }
  return problems
}

/** Errors, each naming `…name_template`. */
export function checkNameTemplates(config: Config): SemanticIssue[] {
  return sites(config).flatMap((site) => {
    if (site.template === undefined) return []
    const path = [...site.at, 'name_template']
    const parsed = parseNameTemplate(site.template)
    if (!parsed.ok) return [{path, message: parsed.error}]
    return checkSite(site, parsed.template).map((message) => ({path, message}))
  })
}

/** Warnings for `validate`: templates whose names all end like an ARN suffix. */
export function nameTemplateWarnings(config: Config): string[] {
  return sites(config).flatMap((site) => {
    const parsed = parseNameTemplate(site.template ?? DEFAULT_NAME_TEMPLATE)
    const last = parsed.ok ? parsed.template.parts.at(-1) : undefined
    if (!last || !('literal' in last) || !looksLikeArnSuffix(last.literal)) return []
    return [
      `${formatPath(site.at)}.name_template: names end in "-" and six characters, which AWS reads as ambiguous with an ARN suffix`,
    ]
  })
}
