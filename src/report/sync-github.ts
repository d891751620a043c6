import {randomBytes, randomUUID} from 'node:crypto'
import {appendFile} from 'node:fs/promises'
import type {SecretChange, SyncRunResult, SyncSummary, TargetSyncResult} from '../sync/types.js'
import {isJsonObject, stringifyJson, type JsonObject, type JsonValue} from '../util/exact-json.js'
import {
  escapeCommandData,
  escapeCommandProperty,
  escapeJsonText,
  guardLine,
  untrusted,
  verbatim,
} from '../util/untrusted-text.js'
import type {FatalError} from './fatal-error.js'
import {CappedMarkdown, md, row, STEP_SUMMARY_BUDGET_BYTES} from './github-summary.js'
import {hasChanges, inline, metadataNotes, syncSummaryLine, targetBodyLines, targetHeading} from './sync-text.js'
import {InternalError} from '../errors.js'

export interface SyncGithubOptions {
  showValues: boolean
  /**
   * Why the run planned or applied (the Action's dry-run default), as plain text: a notice in the log and a line
   * under the summary's heading.
   */
  note?: string
  /** Bytes the step summary may take; GitHub drops a summary over 1 MiB whole. */
  summaryBudget?: number
}

export interface SyncGithubResult {
  /** Log lines with workflow commands: one collapsible group per target, then annotations and a notice. */
  stdout: string
  /** For `$GITHUB_STEP_SUMMARY`; never holds values, even with `--show-values`. */
  summaryMarkdown: string
  /** For `$GITHUB_OUTPUT`: the summary counts and `has_changes`. */
  outputs: Record<string, string>
}

// The workflow-command escapes live with the other untrusted-text rules; re-exported for existing importers.
export {escapeCommandData, escapeCommandProperty} from '../util/untrusted-text.js'

/**
 * `::command props::message`. The message is built from escaped fields (`untrusted`), so it holds no raw control
 * character and no `##[`; GitHub's data and property escapes then keep it one command on one line.
 */
export function workflowCommand(command: string, properties: Record<string, string>, message: string): string {
  const props = Object.entries(properties).map(([key, value]) => `${key}=${escapeCommandProperty(value)}`)
  return `::${command}${props.length > 0 ? ` ${props.join(',')}` : ''}::${escapeCommandData(message)}`
}

/** A fresh unguessable token per call: data cannot hold it, so data cannot end the fence it opens. */
function fenceToken(body: readonly string[]): string {
  for (;;) {
    const token = randomBytes(32).toString('hex')
    if (!body.some((line) => line.includes(token))) return token
  }
}

function targetGroup(target: TargetSyncResult, showValues: boolean): string[] {
  // Key names, values and errors come from Vault and AWS: each is escaped, each line guarded, and the body is
  // fenced with stop-commands besides, so shown values are never read as commands even if an escape were missed.
  const body = targetBodyLines(target, {showValues, color: false}).map(guardLine)
  const token = fenceToken(body)
  return [
    workflowCommand('group', {}, targetHeading(target)),
    `::stop-commands::${token}`,
    ...body,
    `::${token}::`,
    '::endgroup::',
  ]
}

function* annotations(result: SyncRunResult): Generator<string> {
  for (const target of result.targets) {
    const lines: string[] = []
    if (target.status === 'failed') {
      lines.push(
        workflowCommand('error', {title: 'secretsync'}, untrusted`${target.name}: ${target.error ?? 'failed'}`),
      )
    } else if (target.error !== null) {
      lines.push(workflowCommand('warning', {title: 'secretsync'}, untrusted`${target.name}: ${target.error}`))
    }
    for (const change of target.changes) {
      // Annotations are read out of context, and one secret name usually exists in many accounts: name the target.
      const secret = untrusted`${target.name}: ${change.name}`
      if (change.action === 'conflict') {
        lines.push(
          workflowCommand(
            'warning',
            {title: 'secretsync conflict'},
            untrusted`${verbatim(secret)}: ${change.error ?? 'conflict'}`,
          ),
        )
      } else if (change.error !== null) {
        lines.push(workflowCommand('error', {title: 'secretsync'}, untrusted`${verbatim(secret)}: ${change.error}`))
      }
      if (change.drift) {
        const fate = result.dry_run ? '; applying overwrites it' : change.error === null ? '; overwritten' : ''
        lines.push(
          workflowCommand('warning', {title: 'secretsync drift'}, `${secret} was changed outside secretsync${fate}`),
        )
      }
    }
    yield* lines
  }
}

const CHANGE_HEADER = [
  row(['action', 'secret', 'keys added', 'keys removed', 'keys changed', 'metadata', 'drift', 'error']),
  row(Array(8).fill('---')),
].join('\n')

const changeRow = (change: SecretChange): string =>
  row([
    change.held
      ? `${change.action} (held)`
      : change.action === 'skip'
        ? `skipped (${change.reason ?? 'rotation'})`
        : change.action,
    md(change.name),
    change.keys_added.map(md).join(', '),
    change.keys_removed.map(md).join(', '),
    change.keys_changed.map(md).join(', '),
    metadataNotes(change)
      .map((note) => md(`${note.mark}${note.what}`))
      .join(', '),
    change.drift ? 'yes' : 'no',
    md(change.error ?? ''),
  ])

/** One target's blocks; stops (and leaves the document cut) at the first block or row that does not fit. */
function writeTarget(doc: CappedMarkdown, target: TargetSyncResult): number {
  let rows = 0
  if (!doc.block(`### ${md(targetHeading(target))}`)) return rows
  if (target.error !== null && !doc.block(`**error:** ${md(target.error)}`)) return rows
  if (target.changes.length > 0) {
    if (!doc.block(CHANGE_HEADER)) return rows
    for (const change of target.changes) {
      if (!doc.row(changeRow(change))) return rows
      rows += 1
    }
  }
  if (target.unchanged > 0 || (target.changes.length === 0 && target.error === null)) {
    doc.block(`${target.unchanged} unchanged`)
  }
  return rows
}

function countsTable(s: SyncSummary): string {
  return [
    row([
      'targets',
      'failed targets',
      'created',
      'updated',
      'restored',
      'deleted',
      'unchanged',
      'conflicts',
      'drifted',
      'failed',
      'held',
    ]),
    row(Array(11).fill('---:')),
    row([
      s.targets,
      s.failed_targets,
      s.created,
      s.updated,
      s.restored,
      s.deleted,
      s.unchanged,
      s.conflicts,
      s.drifted,
      s.failed,
      s.held,
    ]),
  ].join('\n')
}

/** Where to see what a cut summary left out. */
export const FULL_REPORT_HINT =
  "Every change is in the JSON report: the file the Action's `report-file` output names (upload it with actions/upload-artifact), or `--output json` on the command line."

function summaryMarkdown(result: SyncRunResult, options: SyncGithubOptions): string {
  const doc = new CappedMarkdown(options.summaryBudget ?? STEP_SUMMARY_BUDGET_BYTES)
  doc.head(`## secretsync ${result.dry_run ? 'plan (dry run, nothing written)' : 'apply'}`)
  if (options.note) doc.head(md(options.note))
  doc.head(`Run ${md(result.run_id)}: ${md(syncSummaryLine(result))}`)
  doc.head(countsTable(result.summary))
  let shownRows = 0
  let shownTargets = 0
  let totalRows = 0
  let totalTargets = 0
  // One pass: the tables until the budget is used, the totals of every target for the note.
  for (const target of result.targets) {
    totalRows += target.changes.length
    totalTargets += 1
    if (doc.isCut) continue
    shownRows += writeTarget(doc, target)
    if (!doc.isCut) shownTargets += 1
  }
  return doc.finish(
    () =>
      `**Cut to stay under GitHub's 1 MiB step-summary limit:** the tables list ${shownRows} of ${totalRows} changed or refused secrets and ${shownTargets} of ${totalTargets} targets in full; the counts above are complete. ${FULL_REPORT_HINT}`,
  )
}

/**
 * Step outputs: kebab-case like the Action's inputs (`dry-run`, `exit-code`). `failed_targets` and `has_changes`,
 * the names of 0.1, are still written as aliases (deprecated, documented in action.yml).
 */
const githubOutputs = (result: SyncRunResult): Record<string, string> => {
  const s = result.summary
  return {
    'dry-run': String(result.dry_run),
    created: String(s.created),
    updated: String(s.updated),
    restored: String(s.restored),
    deleted: String(s.deleted),
    unchanged: String(s.unchanged),
    conflicts: String(s.conflicts),
    drifted: String(s.drifted),
    failed: String(s.failed),
    held: String(s.held),
    skipped: String(s.skipped),
    policies: String(s.policies),
    'failed-targets': String(s.failed_targets),
    'has-changes': String(hasChanges(s)),
    failed_targets: String(s.failed_targets),
    has_changes: String(hasChanges(s)),
  }
}

// Raw text goes into a mask line only when it is safe to print as it is (no control character, no `##[`): the
// printed, escaped form is masked either way. GitHub masks a registered string wherever it appears later in the log
// (later steps' too), and a multi-line secret line by line, so a string is also masked per line.
const rawForms = (text: string): string[] => [text, ...text.split(/\r?\n|\r/)].filter((form) => inline(form) === form)

// The diff (`key: <value>`): what the text and github formats print for the keys of an update or a restore.
function diffForms(secret: JsonObject | null | undefined, key: string): string[] {
  if (!secret || !Object.hasOwn(secret, key)) return []
  const value = secret[key]
  return [inline(stringifyJson(value)), ...(typeof value === 'string' ? rawForms(value) : [])]
}

// The JSON report prints `before` and `after` whole, for every change: every leaf as the JSON text shows it.
function jsonLeafForms(value: JsonValue | undefined): string[] {
  if (value === null || value === undefined) return []
  if (typeof value === 'string') return [escapeJsonText(stringifyJson(value)).slice(1, -1), ...rawForms(value)]
  if (Array.isArray(value)) return value.flatMap(jsonLeafForms)
  if (isJsonObject(value)) return Object.values(value).flatMap(jsonLeafForms)
  return [stringifyJson(value)]
}

/**
 * `::add-mask::` for every value a `--show-values` report prints, to go before it: `diff` for the text and github
 * formats (the keys of updates and restores), `json` for the JSON report (every value of every change). They go
 * outside any stop-commands fence: inside one the runner ignores commands, masks included.
 */
export function maskCommands(result: SyncRunResult, shown: 'diff' | 'json' = 'diff'): string[] {
  const values = new Set<string>()
  const add = (forms: string[]): void => forms.forEach((form) => values.add(form))
  for (const change of Array.from(result.targets).flatMap((target) => target.changes)) {
    if (shown === 'json') {
      add(jsonLeafForms(change.before))
      add(jsonLeafForms(change.after))
    } else if (change.action === 'update' || change.action === 'restore') {
      for (const key of change.keys_added) add(diffForms(change.after, key))
      for (const key of change.keys_removed) add(diffForms(change.before, key))
      for (const key of change.keys_changed) add([...diffForms(change.before, key), ...diffForms(change.after, key)])
    }
  }
  // The runner ignores blank masks; a blank line would be no command at all.
  return [...values].filter((value) => value.trim() !== '').map((value) => `::add-mask::${escapeCommandData(value)}`)
}

/** GitHub Actions rendering: log groups and annotations on stdout, a step summary, and step outputs. */
export function renderSyncGithub(result: SyncRunResult, options: SyncGithubOptions): SyncGithubResult {
  const chunks = githubLogChunks(result, options)
  return {
    // Built when asked for: a run's output is printed from `githubLogChunks`, one target at a time.
    get stdout() {
      return [...chunks].join('')
    },
    summaryMarkdown: summaryMarkdown(result, options),
    outputs: githubOutputs(result),
  }
}

/** `renderSyncGithub`'s stdout line by line: masks, the mode notice, a group per target, annotations, the summary notice. */
export function githubLogChunks(result: SyncRunResult, options: SyncGithubOptions): Iterable<string> {
  const lines = function* (): Generator<string> {
    if (options.showValues) yield* maskCommands(result)
    if (options.note) yield workflowCommand('notice', {title: 'secretsync mode'}, options.note)
    for (const target of result.targets) yield* targetGroup(target, options.showValues)
    yield* annotations(result)
    yield workflowCommand('notice', {title: 'secretsync'}, syncSummaryLine(result))
  }
  return {
    *[Symbol.iterator]() {
      for (const line of lines()) yield `${line}\n`
    },
  }
}

/**
 * A run that ended on an error (exit 1 or 2) before it had a report: an `::error::` annotation, so the failure
 * shows on the run's page, and a step summary saying what failed and what to do.
 */
export function renderGithubFailure(fatal: FatalError, note?: string): SyncGithubResult {
  const [first = '', ...more] = fatal.message.split('\n')
  const blocks = [
    `## secretsync failed (exit ${fatal.exitCode})`,
    ...(note ? [md(note)] : []),
    `\`${fatal.code}\`: ${md(first)}`,
    ...(more.length > 0 ? [more.map((line) => `- ${md(line.trim())}`).join('\n')] : []),
    ...(fatal.hint ? [`**Hint:** ${md(fatal.hint)}`] : []),
  ]
  const stdout = `${workflowCommand('error', {title: `secretsync failed (exit ${fatal.exitCode})`}, untrusted`${fatal.code}: ${verbatim(fatal.message)}${verbatim(fatal.hint ? `\nHint: ${fatal.hint}` : '')}`)}\n`
  return {
    stdout,
    summaryMarkdown: `${blocks.join('\n\n')}\n`,
    outputs: {},
  }
}

function outputEntry(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name))
    throw new InternalError(`invalid GitHub output name: ${JSON.stringify(name)}`)
  if (!/[\r\n]/.test(value)) return `${name}=${value}\n`
  // A multi-line value needs the heredoc form; a random delimiter cannot be forged by the value.
  const delimiter = `ghadelimiter_${randomUUID()}`
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`
}

/**
 * Appends the step summary to `$GITHUB_STEP_SUMMARY` and the outputs to `$GITHUB_OUTPUT`,
 * each only when its variable is set (outside Actions neither is).
 */
export async function writeGithubFiles(
  rendered: Pick<SyncGithubResult, 'summaryMarkdown' | 'outputs'>,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const summaryFile = env.GITHUB_STEP_SUMMARY
  if (summaryFile) await appendFile(summaryFile, rendered.summaryMarkdown)
  const outputFile = env.GITHUB_OUTPUT
  if (outputFile) {
    const entries = Object.entries(rendered.outputs).map(([name, value]) => outputEntry(name, value))
    await appendFile(outputFile, entries.join(''))
  }
}
