import {closeSync, constants, fstatSync, openSync, readFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {isPlainObject} from '../util/canonical-json.js'
import {parseJson} from '../util/exact-json.js'
import {MAX_POLICY_LENGTH, policyDocumentProblem, policyTemplateProblems} from '../sync/resource-policy.js'
import type {Config} from './schema.js'
import {targetSites, type SemanticIssue} from './target-sites.js'

/**
 * `resource_policy` as written (README "Resource policy"): a mapping, inline JSON text, or a file path relative to
 * the config file. Loading turns each into the policy document and checks it, so every later stage sees a
 * document; problems name the key (the loader adds file and line) and, for a file, the file.
 */

// Room for whitespace around a document AWS caps at 20,480 characters; more is not a policy file.
const MAX_FILE_BYTES = 4 * MAX_POLICY_LENGTH

const errnoReason = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'file not found'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'EISDIR') return 'is a directory'
  return code ?? (error as Error).message
}

/**
 * Reads a policy file without trusting what the path names: opened non-blocking (a FIFO cannot hang the load),
 * a regular file only (not a device like /dev/zero), size-capped, strict UTF-8.
 */
function readPolicyFile(path: string): {text: string} | {error: string} {
  if (path.includes('\0')) return {error: 'the path contains NUL'}
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    return {error: errnoReason(error)}
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) return {error: 'is not a regular file'}
    if (stat.size > MAX_FILE_BYTES)
      return {error: `is ${stat.size} bytes; a resource policy file is at most ${MAX_FILE_BYTES}`}
    const text = new TextDecoder('utf-8', {fatal: true}).decode(readFileSync(fd))
    return {text: text.replace(/^\uFEFF/, '')}
  } catch (error) {
    return {error: error instanceof TypeError ? 'is not UTF-8 text' : errnoReason(error)}
  } finally {
    closeSync(fd)
  }
}

function parseDocument(text: string): {document: unknown} | {error: string} {
  // parseJson's error names a position only: JSON.parse's quotes the text, which may hold an interpolated secret.
  try {
    parseJson(text)
  } catch (error) {
    return {error: `is not valid JSON (${(error as Error).message})`}
  }
  return {document: JSON.parse(text) as unknown}
}

/** The document a `resource_policy` value stands for, or why there is none. */
function documentOf(
  value: string | Record<string, unknown>,
  configFile: string,
): {document: unknown} | {error: string} {
  if (typeof value !== 'string') return {document: value}
  if (value.trimStart().startsWith('{')) {
    const parsed = parseDocument(value)
    return 'error' in parsed ? {error: `inline JSON ${parsed.error}`} : parsed
  }
  const path = resolve(dirname(configFile), value)
  const read = readPolicyFile(path)
  const parsed = 'error' in read ? read : parseDocument(read.text)
  if ('error' in parsed) return {error: `policy file "${value}" (${path}): ${parsed.error}`}
  const problem = policyDocumentProblem(parsed.document)
  return problem === undefined ? parsed : {error: `policy file "${value}" (${path}) ${problem}`}
}

/** Every `resource_policy` loaded into its document; the config is copied, never changed in place. */
export function loadResourcePolicies(config: Config, configFile: string): {config: Config; issues: SemanticIssue[]} {
  const targets = config.targets.map((target) => ({...target}))
  const discovery = config.discovery.map((block) => ({...block, target: {...block.target}}))
  const issues: SemanticIssue[] = []
  // The sites of the copies: a loaded document is set on the copy.
  for (const {at, target, hasAccountName} of targetSites({targets, discovery})) {
    if (target.resource_policy === undefined) continue
    const path = [...at, 'resource_policy']
    const loaded = documentOf(target.resource_policy, configFile)
    if ('error' in loaded) {
      issues.push({path, message: loaded.error})
      continue
    }
    const problem = policyDocumentProblem(loaded.document)
    if (problem !== undefined || !isPlainObject(loaded.document)) {
      issues.push({path, message: problem ?? 'must be a policy document'})
      continue
    }
    for (const message of policyTemplateProblems(loaded.document, hasAccountName)) issues.push({path, message})
    target.resource_policy = loaded.document
  }
  return {config: {...config, targets, discovery}, issues}
}
