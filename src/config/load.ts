import {readFile} from 'node:fs/promises'
import {isScalar, LineCounter, parseDocument, visit, type Document, type Node, type Scalar} from 'yaml'
import type {z} from 'zod'
import {ConfigError, type ConfigIssue} from '../errors.js'
import {didYouMean} from './did-you-mean.js'
import {maskReferences, SENTINEL, substituteReferences, type Reference} from './interpolate.js'
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
  return parseConfig(decodeConfigText(bytes, file), file, options)
}

/** The file's text; bytes that are not UTF-8 are an error naming their line, never U+FFFD in a value. */
export function decodeConfigText(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    // A line feed byte never occurs inside a multi-byte sequence, so decoding line by line finds the bad line.
    let line = 1
    let start = 0
    for (let index = 0; index <= bytes.length; index++) {
      if (index < bytes.length && bytes[index] !== 0x0a) continue
      try {
        new TextDecoder('utf-8', {fatal: true}).decode(bytes.subarray(start, index))
      } catch {
        break
      }
      line++
      start = index + 1
    }
    throw new ConfigError([{file, line, path: '', message: 'is not UTF-8 text (save the file as UTF-8)'}])
  }
}

/**
 * Parses, interpolates and validates config text. `${VAR}` references are resolved once, inside the string
 * scalars where they are written, after YAML has parsed the text: a variable's value is inserted as text and
 * never parsed as YAML or scanned for references; numbers and booleans come from the schema's coercion.
 */
export function parseConfig(text: string, file: string, options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env
  const forbidden = findForbiddenCharacter(text)
  if (forbidden) throw new ConfigError([{file, ...forbidden, path: ''}])

  const lines = new LineCounter()
  const {masked, references} = maskReferences(text)
  // uniqueKeys is off because yaml checks it pairwise (quadratic); checkUniqueKeys does it in linear time.
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

  const issues: ConfigIssue[] = []
  const interpolated = new Map<Node, string[]>()
  const substituted = new Map<string, string>()
  visit(doc, {
    Scalar(_key, node, path) {
      if (typeof node.value !== 'string' || !node.value.includes(SENTINEL) || !node.range) return
      const written = referencesWithin(references, node.range[0], node.range[1])
      // Without a reference written here, a U+0001 can only come from a `\x01` escape: it is the user's text.
      if (written.length === 0) return
      const result = substituteReferences(node.value, written, env)
      if (!result.ok) {
        const message =
          result.reason === 'unset'
            ? `environment variable ${result.variable} is not set (set it, or give a default with \${${result.variable}:-default})`
            : `cannot interpolate \${${result.variable}} exactly here: a reference must be part of a string value, and a string with references may not contain \\x01 escapes`
        issues.push({file, ...at(node.range[0]), path: formatPath(keyPathOf(path)), message})
        return
      }
      node.value = result.value
      if (result.used.length > 0) interpolated.set(node, [...new Set(result.used.map((use) => use.variable))])
      for (const use of result.used) if (use.value.length >= 4) substituted.set(use.value, use.variable)
    },
  })
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
  const duplicates = checkUniqueKeys(doc).map((key) => ({file, ...at(key.range?.[0]), path: '', message: 'YAML syntax: Map keys must be unique'}))
  if (duplicates.length > 0) return fail(duplicates.slice(0, 1))

  let raw: unknown
  try {
    raw = doc.toJS({maxAliasCount: MAX_ALIAS_COUNT}) ?? {}
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error
    return fail([{file, path: '', message: `uses aliases too often (more than ${MAX_ALIAS_COUNT} expansions; an alias bomb?)`}])
  }
  const parsed = configSchema.safeParse(raw, {reportInput: true})
  if (!parsed.success) {
    const variablesAt = (path: KeyPath): string[] | undefined => {
      const node = locator.node(path)
      return node === undefined ? undefined : interpolated.get(node)
    }
    return fail(parsed.error.issues.flatMap((issue) => toConfigIssues(issue, file, locator, variablesAt)))
  }

  const semanticIssues = checkConfigSemantics(parsed.data).map(({path, message}) => ({
    file,
    ...locator.locate(path),
    path: formatPath(path),
    message,
  }))
  if (semanticIssues.length > 0) return fail(semanticIssues)
  return {file, config: parsed.data, locator}
}

const MAX_ALIAS_COUNT = 100

// YAML 1.2 allows only printable characters (c-printable) in a stream; the others are refused with their place.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u0084\u0086-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function findForbiddenCharacter(text: string): {line: number; column: number; message: string} | undefined {
  const match = FORBIDDEN.exec(text)
  if (!match) return undefined
  const before = text.slice(0, match.index)
  const line = before.split('\n').length
  const code = (match[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')
  return {
    line,
    column: match.index - before.lastIndexOf('\n'),
    message: `control character U+${code} is not allowed in a YAML file (write it as an escape in a double-quoted string)`,
  }
}

/** The references written between two offsets; `references` is in source order. */
function referencesWithin(references: readonly Reference[], start: number, end: number): Reference[] {
  let low = 0
  let high = references.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((references[middle] as Reference).offset < start) low = middle + 1
    else high = middle
  }
  const found: Reference[] = []
  for (let index = low; index < references.length && (references[index] as Reference).offset < end; index++) found.push(references[index] as Reference)
  return found
}

/** Keys written twice in one map (after interpolation), in one pass per map; yaml's own check is quadratic. */
function checkUniqueKeys(doc: Document.Parsed): Node[] {
  const duplicates: Node[] = []
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>()
      for (const pair of map.items) {
        // yaml's rule: scalar keys are equal when their values are (so 1 and "1" differ).
        if (!isScalar(pair.key)) continue
        const id = `${typeof pair.key.value}:${String(pair.key.value)}`
        if (seen.has(id)) duplicates.push(pair.key)
        seen.add(id)
      }
    },
  })
  return duplicates
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

/**
 * `variablesAt(path)`: the variables interpolated into the value at path. An error may quote a value only
 * when it was written in the file; an interpolated one is named by its variables instead.
 */
function toConfigIssues(issue: z.core.$ZodIssue, file: string, locator: SourceLocator, variablesAt: (path: KeyPath) => string[] | undefined): ConfigIssue[] {
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
  const from = variables === undefined ? '' : ` (the value of ${variables.map((variable) => `\${${variable}}`).join(', ')})`
  return [{file, ...locator.locate(path), path: formatPath(path), message: describeIssue(issue, variables === undefined) + from}]
}

function describeIssue(issue: z.core.$ZodIssue, echo: boolean): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `is required (${issue.message.replace(/^Invalid input: /, '')})`
      return `${issue.message.replace(/^Invalid input: /, '')}, got ${describeType(issue.input)}`
    case 'invalid_value': {
      const expected = issue.values.map((value) => JSON.stringify(value))
      const got = typeof issue.input === 'string' && echo ? ` got "${issue.input}"${didYouMean(issue.input, issue.values.map(String))}` : ''
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
