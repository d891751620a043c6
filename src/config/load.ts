import {readFile} from 'node:fs/promises'
import {isScalar, LineCounter, parse as parseYamlValue, parseDocument, Scalar, visit} from 'yaml'
import type {z} from 'zod'
import {ConfigError, type ConfigIssue} from '../errors.js'
import {didYouMean} from './did-you-mean.js'
import {interpolate} from './interpolate.js'
import {formatPath, SourceLocator, type KeyPath} from './locate.js'
import {checkConfigSemantics} from './semantics.js'
import {configSchema, type Config} from './schema.js'
import {allowedKeysAt} from './schema-keys.js'

export interface LoadConfigOptions {
  env?: Readonly<Record<string, string | undefined>>
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
export async function loadConfig(file: string, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message
    throw new ConfigError([{file, path: '', message: `cannot read config: ${reason}`}], {
      code: 'CONFIG_NOT_FOUND',
      hint: 'Pass the config file with -c/--config or set SECRETSYNC_CONFIG.',
    })
  }
  return parseConfig(text, file, options)
}

export function parseConfig(text: string, file: string, options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env
  const lines = new LineCounter()
  const {masked, unmask} = maskReferences(text)
  const doc = parseDocument(masked, {lineCounter: lines, prettyErrors: false, uniqueKeys: true})
  const locator = new SourceLocator(doc, lines)
  // The first syntax error is the one to fix; the ones after it are mostly its echoes.
  const yamlIssues: ConfigIssue[] = doc.errors.slice(0, 1).map((error) => {
    const {line, col} = lines.linePos(error.pos[0])
    return {file, line, column: col, path: '', message: `YAML syntax: ${error.message.split('\n')[0]}`}
  })
  if (yamlIssues.length > 0) throw new ConfigError(yamlIssues)

  const issues: ConfigIssue[] = []
  visit(doc, {
    Scalar(_key, node, path) {
      if (typeof node.value !== 'string' || !hasPlaceholder(node.value)) return
      const result = interpolate(unmask(node.value), env)
      if (!result.ok) {
        const {line, col} = lines.linePos(node.range?.[0] ?? 0)
        issues.push({
          file,
          line,
          column: col,
          path: formatPath(keyPathOf(path)),
          message: `environment variable ${result.variable} is not set (set it, or give a default with \${${result.variable}:-default})`,
        })
        return
      }
      // An unquoted `${PORT}` stands for a YAML value, so `8080` becomes a number as if it were written.
      const typed = node.type === Scalar.PLAIN ? parseYamlValue(result.value === '' ? '""' : result.value) : result.value
      return Object.assign(new Scalar(typeof typed === 'object' && typed !== null ? result.value : typed), {range: node.range})
    },
  })
  if (issues.length > 0) throw new ConfigError(issues)

  const raw: unknown = doc.toJS() ?? {}
  const parsed = configSchema.safeParse(raw, {reportInput: true})
  if (!parsed.success) {
    throw new ConfigError(byLine(parsed.error.issues.flatMap((issue) => toConfigIssues(issue, file, locator))))
  }

  const semanticIssues = checkConfigSemantics(parsed.data).map(({path, message}) => ({
    file,
    ...locator.locate(path),
    path: formatPath(path),
    message,
  }))
  if (semanticIssues.length > 0) throw new ConfigError(byLine(semanticIssues))
  return {file, config: parsed.data, locator}
}

// `${VAR}` is not valid YAML in flow collections (`{endpoint: ${URL}}`): each reference is swapped for a
// same-length placeholder before parsing and restored inside scalars, so lines and columns stay true.
const PLACEHOLDER = /§([0-9a-z]+)§/g
const REFERENCE = /\$\$?\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}\n]*)?\}/g
const hasPlaceholder = (value: string): boolean => value.includes('§')

function maskReferences(text: string): {masked: string; unmask: (value: string) => string} {
  const references: string[] = []
  const masked = text.replace(REFERENCE, (reference) => {
    const id = references.push(reference) - 1
    return `§${id.toString(36).padStart(reference.length - 2, '0')}§`
  })
  const unmask = (value: string): string => value.replace(PLACEHOLDER, (whole, id: string) => references[parseInt(id, 36)] ?? whole)
  return {masked, unmask}
}

const byLine = (issues: ConfigIssue[]): ConfigIssue[] =>
  [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0))

/** The key path of a node from yaml's visitor ancestry (maps contribute pair keys, sequences indices). */
function keyPathOf(ancestry: readonly unknown[]): KeyPath {
  const path: Array<string | number> = []
  for (const [index, node] of ancestry.entries()) {
    const child = ancestry[index + 1]
    if (node && typeof node === 'object' && 'items' in node && child !== undefined) {
      const items = (node as {items: unknown[]}).items
      const position = items.indexOf(child)
      if ('key' in (child as object) && isScalar((child as {key: unknown}).key)) {
        path.push(String(((child as {key: Scalar}).key).value))
      } else if (position >= 0) {
        path.push(position)
      }
    }
  }
  return path
}

function toConfigIssues(issue: z.core.$ZodIssue, file: string, locator: SourceLocator): ConfigIssue[] {
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
  return [{file, ...locator.locate(path), path: formatPath(path), message: describeIssue(issue, locator, path)}]
}

function describeIssue(issue: z.core.$ZodIssue, _locator: SourceLocator, _path: KeyPath): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `is required (${issue.message.replace(/^Invalid input: /, '')})`
      return `${issue.message.replace(/^Invalid input: /, '')}, got ${describeType(issue.input)}`
    case 'invalid_value': {
      const expected = issue.values.map((value) => JSON.stringify(value))
      const got = typeof issue.input === 'string' ? ` got "${issue.input}"${didYouMean(issue.input, issue.values.map(String))}` : ''
      return `expected one of ${expected.join(', ')};${got || ` got ${describeType(issue.input)}`}`
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
