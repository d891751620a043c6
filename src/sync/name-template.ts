/**
 * Secret name templates (`name_template` on a target): `{{variable}}` and `{{variable | filter …}}` placeholders
 * between literal text, e.g. `{{target}}/{{path | lower}}`. Parsed once at config load (errors name the key), then
 * rendered per secret. Variable values are untrusted text (Vault paths and keys, account names): a rendered name is
 * checked by the same rules as every other name (secret-rules.ts nameProblem) before it is used, never trusted.
 */

export const NAME_VARIABLES = [
  'secret_prefix',
  'path',
  'key',
  'source',
  'target',
  'account_id',
  'account_name',
  'region',
] as const
export type NameVariable = (typeof NAME_VARIABLES)[number]
export type NameVariables = Partial<Record<NameVariable, string>>

/** `secret_prefix` + relative path: today's names, byte for byte. */
export const DEFAULT_NAME_TEMPLATE = '{{secret_prefix}}{{path}}'
/** With `granularity: key`: one secret per top-level key, below the secret's path. */
export const DEFAULT_KEY_NAME_TEMPLATE = '{{secret_prefix}}{{path}}/{{key}}'

type Filter = {name: 'lower'} | {name: 'upper'} | {name: 'replace'; from: string; to: string}
type Part = {literal: string} | {variable: NameVariable; filters: Filter[]}

export interface NameTemplate {
  text: string
  parts: readonly Part[]
}

export type ParsedTemplate = {ok: true; template: NameTemplate} | {ok: false; error: string}

const PLACEHOLDER = /\{\{(.*?)\}\}/gs
// A filter argument: a double-quoted string with \" and \\ escapes.
const TOKEN = /\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"|]+))/y

function parseFilter(text: string): Filter | string {
  const tokens: Array<{quoted: boolean; value: string}> = []
  TOKEN.lastIndex = 0
  let rest = text.trim()
  while (rest !== '') {
    TOKEN.lastIndex = 0
    const match = TOKEN.exec(rest)
    if (!match) return `cannot read the filter "${text.trim()}": arguments are double-quoted strings`
    tokens.push(
      match[1] === undefined
        ? {quoted: false, value: match[2] ?? ''}
        : {quoted: true, value: match[1].replace(/\\(.)/g, '$1')},
    )
    rest = rest.slice(TOKEN.lastIndex).trim()
  }
  const [head, ...args] = tokens
  if (!head || head.quoted) return 'a filter name is missing after "|"'
  if (head.value === 'lower' || head.value === 'upper') {
    if (args.length > 0) return `the filter "${head.value}" takes no arguments`
    return {name: head.value}
  }
  if (head.value === 'replace') {
    if (args.length !== 2 || !args.every((arg) => arg.quoted))
      return 'the filter "replace" takes two double-quoted strings, e.g. replace "/" "-"'
    const [from = '', to = ''] = args.map((arg) => arg.value)
    if (from === '') return 'the filter "replace" needs a non-empty string to replace'
    return {name: 'replace', from, to}
  }
  return `unknown filter "${head.value}": use lower, upper or replace "<from>" "<to>"`
}

/** Splits `path | replace "|" "-"` at the pipes outside double-quoted arguments. */
function splitPipes(expression: string): string[] {
  const pieces: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < expression.length; i++) {
    const char = expression[i] ?? ''
    if (quoted && char === '\\') {
      current += char + (expression[i + 1] ?? '')
      i++
      continue
    }
    if (char === '"') quoted = !quoted
    if (char === '|' && !quoted) {
      pieces.push(current)
      current = ''
    } else current += char
  }
  pieces.push(current)
  return pieces
}

/** Parses a template; the error says what is wrong without echoing more than the template's own text. */
export function parseNameTemplate(text: string): ParsedTemplate {
  const parts: Part[] = []
  let last = 0
  for (const match of text.matchAll(PLACEHOLDER)) {
    const literal = text.slice(last, match.index)
    if (/\{\{|\}\}/.test(literal)) return {ok: false, error: 'has unbalanced {{ }}'}
    if (literal !== '') parts.push({literal})
    const [variable = '', ...filterTexts] = splitPipes(match[1] ?? '')
    const name = variable.trim()
    if (!(NAME_VARIABLES as readonly string[]).includes(name))
      return {ok: false, error: `unknown variable {{${name}}}: use ${NAME_VARIABLES.join(', ')}`}
    const filters: Filter[] = []
    for (const filterText of filterTexts) {
      const filter = parseFilter(filterText)
      if (typeof filter === 'string') return {ok: false, error: filter}
      filters.push(filter)
    }
    parts.push({variable: name as NameVariable, filters})
    last = match.index + match[0].length
  }
  const tail = text.slice(last)
  if (/\{\{|\}\}/.test(tail)) return {ok: false, error: 'has unbalanced {{ }}'}
  if (tail !== '') parts.push({literal: tail})
  return {ok: true, template: {text, parts}}
}

/** The variables a template reads. */
export const templateVariables = (template: NameTemplate): Set<NameVariable> =>
  new Set(template.parts.flatMap((part) => ('variable' in part ? [part.variable] : [])))

const applyFilter = (value: string, filter: Filter): string =>
  filter.name === 'lower'
    ? value.toLowerCase()
    : filter.name === 'upper'
      ? value.toUpperCase()
      : value.replaceAll(filter.from, filter.to)

/**
 * Renders a template. A variable without a value is an error message (the config check keeps templates from
 * reading variables a target cannot have, so reaching it is a per-secret failure, never a guess).
 */
export function renderName(template: NameTemplate, variables: NameVariables): {name: string} | {error: string} {
  let name = ''
  for (const part of template.parts) {
    if ('literal' in part) {
      name += part.literal
      continue
    }
    const value = variables[part.variable]
    if (value === undefined) return {error: `the name template reads {{${part.variable}}}, which has no value here`}
    name += part.filters.reduce(applyFilter, value)
  }
  return {name}
}
