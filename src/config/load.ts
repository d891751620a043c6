import {readFile} from 'node:fs/promises'
import {LineCounter, parseDocument} from 'yaml'
import type {z} from 'zod'
import {ConfigError, type ConfigIssue} from '../errors.js'
import {didYouMean} from './did-you-mean.js'
import {decodeConfigText, findForbiddenCharacter} from './config-text.js'
import {interpolateDocument} from './interpolate-document.js'
import {maskReferences, SENTINEL} from './interpolate.js'
import {formatPath, SourceLocator, type KeyPath} from './locate.js'
import {loadResourcePolicies} from './resource-policies.js'
import {checkConfigSemantics} from './semantics.js'
import {configSchema, type Config} from './schema.js'
import {checkTransportSecurity, insecureHttpMessage} from './transport-security.js'
import {allowedKeysAt} from './schema-keys.js'
import {findDuplicateKeys} from './unique-keys.js'

export interface LoadConfigOptions {
  env: Readonly<Record<string, string | undefined>>
}

export interface LoadedConfig {
  file: string
  config: Config
  locator: SourceLocator
}

/**
 * Reads, interpolates and validates a config file. Throws one ConfigError listing every problem found,
 * each with file, line, key path and what was expected. Contacts nothing.
 */
export async function loadConfig(file: string, options: LoadConfigOptions): Promise<LoadedConfig> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message
    throw new ConfigError([{file, path: '', message: `cannot read config: ${reason}`}], {
      code: 'CONFIG_NOT_FOUND',
      hint: 'Pass the config file with -c/--config or set SECRETSYNC_CONFIG.',
    })
  }
  const loaded = parseConfig(decodeConfigText(bytes, file), file, options)
  assertTransportSecurity(loaded, options.env)
  return loaded
}

/**
 * The https-only rule (README "Secrets travel only over TLS"), checked with the environment the run will use, so
 * `validate` and every command stop here, before contacting anything.
 */
function assertTransportSecurity(loaded: LoadedConfig, env: LoadConfigOptions['env']): void {
  const {file, config, locator} = loaded
  const {insecure, refused} = checkTransportSecurity(config, env)
  const issues: ConfigIssue[] = [
    ...(config.allow_insecure_http ? [] : insecure).map((endpoint) => ({
      file: endpoint.path ? file : 'environment',
      ...(endpoint.path ? locator.locate(endpoint.path) : {}),
      path: endpoint.name,
      message: insecureHttpMessage(endpoint),
    })),
    ...refused.map(({name, message}) => ({file: 'environment', path: name, message})),
  ]
  if (issues.length > 0) throw new ConfigError(issues)
}

/**
 * Parses, interpolates and validates config text. `${VAR}` references are resolved once, inside the string
 * scalars where they are written, after YAML has parsed the text: a variable's value is inserted as text and
 * never parsed as YAML or scanned for references; numbers and booleans come from the schema's coercion.
 */
export function parseConfig(text: string, file: string, options: LoadConfigOptions): LoadedConfig {
  const {env} = options
  const forbidden = findForbiddenCharacter(text)
  if (forbidden) throw new ConfigError([{file, ...forbidden, path: ''}])

  const lines = new LineCounter()
  const {masked, references} = maskReferences(text)
  // uniqueKeys is off because yaml checks it pairwise (quadratic); findDuplicateKeys does it in linear time.
  const doc = parseDocument(masked, {lineCounter: lines, prettyErrors: false, uniqueKeys: false})
  const locator = new SourceLocator(doc, lines)
  const at = (offset: number | undefined) => {
    const {line, col} = lines.linePos(offset ?? 0)
    return {line, column: col}
  }
  // The first syntax error is the one to fix; the ones after it are mostly its echoes.
  const yamlIssues: ConfigIssue[] = doc.errors.slice(0, 1).map((error) => ({
    file,
    ...at(error.pos[0]),
    path: '',
    message: `YAML syntax: ${error.message.split('\n')[0]?.replaceAll(SENTINEL, '$')}`,
  }))
  if (yamlIssues.length > 0) throw new ConfigError(yamlIssues)

  const {problems, interpolated, substituted} = interpolateDocument(doc, references, env)
  const issues: ConfigIssue[] = problems.map((problem) => ({
    file,
    ...at(problem.offset),
    path: formatPath(problem.path),
    message: problem.message,
  }))
  // Error texts never carry a variable's value: each one still found in a message is shown as its reference.
  const fail = (found: ConfigIssue[]): never => {
    const redact = (message: string): string => {
      let out = message
      for (const [value, variable] of substituted) out = out.split(value).join(`\${${variable}}`)
      return out
    }
    throw new ConfigError(byLine(found).map((issue) => ({...issue, message: redact(issue.message)})))
  }
  if (issues.length > 0) return fail(issues)
  const duplicates = findDuplicateKeys(doc).map((key) => ({
    file,
    ...at(key.range?.[0]),
    path: '',
    message: 'YAML syntax: Map keys must be unique',
  }))
  if (duplicates.length > 0) return fail(duplicates.slice(0, 1))

  let raw: unknown
  try {
    raw = doc.toJS({maxAliasCount: MAX_ALIAS_COUNT}) ?? {}
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error
    return fail([
      {file, path: '', message: `uses aliases too often (more than ${MAX_ALIAS_COUNT} expansions; an alias bomb?)`},
    ])
  }
  const parsed = configSchema.safeParse(raw, {reportInput: true})
  if (!parsed.success) {
    const variablesAt = (path: KeyPath): string[] | undefined => {
      const node = locator.node(path)
      return node === undefined ? undefined : interpolated.get(node)
    }
    return fail(parsed.error.issues.flatMap((issue) => toConfigIssues(issue, file, locator, variablesAt)))
  }

  // Policy files are read here, relative to the config file, so their problems are reported with the rest.
  const policies = loadResourcePolicies(parsed.data, file)
  const semanticIssues = [...policies.issues, ...checkConfigSemantics(policies.config)].map(({path, message}) => ({
    file,
    ...locator.locate(path),
    path: formatPath(path),
    message,
  }))
  if (semanticIssues.length > 0) return fail(semanticIssues)
  return {file, config: policies.config, locator}
}

const MAX_ALIAS_COUNT = 100

const byLine = (issues: ConfigIssue[]): ConfigIssue[] =>
  [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0))

/**
 * `variablesAt(path)`: the variables interpolated into the value at path. An error may quote a value only
 * when it was written in the file; an interpolated one is named by its variables instead.
 */
function toConfigIssues(
  issue: z.core.$ZodIssue,
  file: string,
  locator: SourceLocator,
  variablesAt: (path: KeyPath) => string[] | undefined,
): ConfigIssue[] {
  const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol')
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(path)
    return issue.keys.map((key) => ({
      file,
      ...locator.locate([...path, key], {key: true}),
      path: formatPath([...path, key]),
      message: `unknown key${didYouMean(key, allowed)}${allowed.length > 0 ? `; allowed here: ${allowed.join(', ')}` : ''}`,
    }))
  }
  const variables = variablesAt(path)
  const from =
    variables === undefined ? '' : ` (the value of ${variables.map((variable) => `\${${variable}}`).join(', ')})`
  return [
    {
      file,
      ...locator.locate(path),
      path: formatPath(path),
      message: describeIssue(issue, variables === undefined) + from,
    },
  ]
}

function describeIssue(issue: z.core.$ZodIssue, echo: boolean): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `is required (${issue.message.replace(/^Invalid input: /, '')})`
      return `${issue.message.replace(/^Invalid input: /, '')}, got ${describeType(issue.input)}`
    case 'invalid_value': {
      const expected = issue.values.map((value) => JSON.stringify(value))
      const got =
        typeof issue.input === 'string' && echo
          ? ` got "${issue.input}"${didYouMean(issue.input, issue.values.map(String))}`
          : ''
      return `expected one of ${expected.join(', ')};${got || ` got ${describeType(issue.input)}`}`
    }
    case 'custom': {
      // A custom check may quote what it got (params.got) only when that was written in the file.
      const got = (issue.params as {got?: unknown} | undefined)?.got
      return typeof got === 'string' && echo ? `${issue.message}, got "${got}"` : issue.message
    }
    default:
      return issue.message
  }
}

const describeType = (value: unknown): string => {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a map'
  return `a ${typeof value}`
}
