import {randomBytes, randomUUID} from 'node:crypto'
import {appendFile} from 'node:fs/promises'
import type {SyncRunResult, SyncSummary, TargetSyncResult} from '../sync/types.js'
import {escapeCommandData, escapeCommandProperty, guardLine, untrusted, verbatim} from '../util/untrusted-text.js'
import {hasChanges, inline, metadataNotes, syncSummaryLine, targetBodyLines, targetHeading} from './sync-text.js'
import {InternalError} from '../errors.js'

export interface SyncGithubOptions {
  showValues: boolean
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
function workflowCommand(command: string, properties: Record<string, string>, message: string): string {
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

function annotations(result: SyncRunResult): string[] {
  const lines: string[] = []
  for (const target of result.targets) {
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
  }
  return lines
}

// Backslash-escaping these keeps cells in their column and keeps names and errors from turning into markup.
const md = (text: string): string => inline(text).replace(/[\\`*_[\]<>|&~]/g, '\\$&')
const row = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`

const changeTable = (target: TargetSyncResult): string =>
  [
    row(['action', 'secret', 'keys added', 'keys removed', 'keys changed', 'metadata', 'drift', 'error']),
    row(Array(8).fill('---')),
    ...target.changes.map((change) =>
      row([
        change.held ? `${change.action} (held)` : change.action,
        md(change.name),
        change.keys_added.map(md).join(', '),
        change.keys_removed.map(md).join(', '),
        change.keys_changed.map(md).join(', '),
        metadataNotes(change)
          .map((note) => md(`${note.mark}${note.what}`))
          .join(', '),
        change.drift ? 'yes' : 'no',
        md(change.error ?? ''),
      ]),
    ),
  ].join('\n')

/** Markdown blocks for one target, to be separated by blank lines. */
function targetBlocks(target: TargetSyncResult): string[] {
  const blocks = [`### ${md(targetHeading(target))}`]
  if (target.error !== null) blocks.push(`**error:** ${md(target.error)}`)
  if (target.changes.length > 0) blocks.push(changeTable(target))
  if (target.unchanged > 0 || (target.changes.length === 0 && target.error === null)) {
    blocks.push(`${target.unchanged} unchanged`)
  }
  return blocks
}

function summaryMarkdown(result: SyncRunResult): string {
  const s = result.summary
  const counts = [
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
  const blocks = [
    `## secretsync ${result.dry_run ? 'plan (dry run, nothing written)' : 'apply'}`,
    `Run ${md(result.run_id)}: ${md(syncSummaryLine(result))}`,
    counts,
    ...result.targets.flatMap(targetBlocks),
  ]
  return `${blocks.join('\n\n')}\n`
}

const githubOutputs = (s: SyncSummary): Record<string, string> => ({
  created: String(s.created),
  updated: String(s.updated),
  restored: String(s.restored),
  deleted: String(s.deleted),
  unchanged: String(s.unchanged),
  conflicts: String(s.conflicts),
  drifted: String(s.drifted),
  failed: String(s.failed),
  held: String(s.held),
  failed_targets: String(s.failed_targets),
  has_changes: String(hasChanges(s)),
})

/** GitHub Actions rendering: log groups and annotations on stdout, a step summary, and step outputs. */
export function renderSyncGithub(result: SyncRunResult, options: SyncGithubOptions): SyncGithubResult {
  const lines = [
    ...result.targets.flatMap((target) => targetGroup(target, options.showValues)),
    ...annotations(result),
    workflowCommand('notice', {title: 'secretsync'}, syncSummaryLine(result)),
  ]
  return {
    stdout: `${lines.join('\n')}\n`,
    summaryMarkdown: summaryMarkdown(result),
    outputs: githubOutputs(result.summary),
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
