import type {SecretChange, SyncRunResult, SyncSummary, TargetSyncResult} from '../sync/types.js'
import type {JsonObject} from '../util/canonical-json.js'
import {stringifyJson} from '../util/exact-json.js'
import {escapeUntrusted, guardLine} from '../util/untrusted-text.js'

export interface SyncTextOptions {
  showValues: boolean
  /** ANSI colours; the command passes `process.stdout.isTTY && !NO_COLOR`. */
  color: boolean
}

const MARK: Record<SecretChange['action'], string> = {
  create: '+',
  update: '~',
  restore: '!',
  delete: '-',
  conflict: '?',
  skip: '=',
}

const ANSI = {bold: 1, red: 31, green: 32, yellow: 33, magenta: 35, cyan: 36} as const
type Style = keyof typeof ANSI

const STYLE: Record<SecretChange['action'], Style> = {
  create: 'green',
  update: 'yellow',
  restore: 'cyan',
  delete: 'red',
  conflict: 'magenta',
  skip: 'cyan',
}

const paint = (style: Style, text: string, color: boolean): string =>
  color ? `\u001b[${ANSI[style]}m${text}\u001b[0m` : text

/**
 * Key names, errors and values come from Vault and AWS: `escapeUntrusted` keeps each on its own line, so they can
 * neither break the layout, drive the terminal, nor forge a CI log line or workflow command. Kept under this name
 * for the renderers that already use it; new code may import `escapeUntrusted` or `untrusted` directly.
 */
export const inline = escapeUntrusted

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

/** Changes that write something; conflicts and failures are never written. */
export const hasChanges = (summary: SyncSummary): boolean =>
  summary.created + summary.updated + summary.restored + summary.deleted > 0

/** `Plan: …` for a dry run, `Applied: …` otherwise; secret counts, then failed targets when there are any. */
export function syncSummaryLine(result: SyncRunResult): string {
  const s = result.summary
  // A plan says what would happen; an applied run says what did.
  const verb = (n: number, plan: string, done: string): string => `${n} ${result.dry_run ? plan : done}`
  const counts = [
    verb(s.created, 'to create', 'created'),
    verb(s.updated, 'to update', 'updated'),
    verb(s.restored, 'to restore', 'restored'),
    verb(s.deleted, 'to delete', 'deleted'),
    `${s.unchanged} unchanged`,
    plural(s.conflicts, 'conflict'),
    `${s.drifted} drifted`,
    `${s.failed} failed${s.held > 0 ? ` (${s.held} ${s.held === 1 ? 'deletion' : 'deletions'} held)` : ''}`,
    // Only when there are any, so runs without rotated secrets read as before.
    ...(s.skipped > 0 ? [`${s.skipped} skipped (rotation)`] : []),
    ...(s.replicas_added === undefined && s.replicas_removed === undefined
      ? []
      : [`replicas +${s.replicas_added ?? 0} -${s.replicas_removed ?? 0}`]),
    ...(s.policies > 0
      ? [
          verb(
            s.policies,
            `resource ${s.policies === 1 ? 'policy' : 'policies'} to change`,
            `resource ${s.policies === 1 ? 'policy' : 'policies'} changed`,
          ),
        ]
      : []),
  ].join(', ')
  const targets = s.failed_targets > 0 ? `; ${s.failed_targets} of ${plural(s.targets, 'target')} failed` : ''
  return `${result.dry_run ? 'Plan' : 'Applied'}: ${counts}${targets}`
}

/** `target <name> (<account or base identity> / <region>) — <status>[ snapshot vN]` */
export function targetHeading(target: TargetSyncResult): string {
  const snapshot = target.snapshot_version === null ? '' : ` snapshot v${target.snapshot_version}`
  return `target ${inline(target.name)} (${inline(target.account_id ?? 'base identity')} / ${inline(target.region)}) — ${target.status}${snapshot}`
}

// Values are looked up by top-level key: the plan lists top-level keys of the secret's JSON object.
const valueAt = (secret: JsonObject | null | undefined, key: string): string | undefined =>
  secret && Object.hasOwn(secret, key) ? inline(stringifyJson(secret[key])) : undefined

/** Metadata changes of one secret as `+ tag k`, `~ tag k`, `- tag k`, `~ kms key`, `~ description` (tag keys, never values). */
export function metadataNotes(change: SecretChange): Array<{mark: '+' | '~' | '-'; what: string}> {
  return [
    ...change.tags_added.map((key) => ({mark: '+' as const, what: `tag ${inline(key)}`})),
    ...change.tags_changed.map((key) => ({mark: '~' as const, what: `tag ${inline(key)}`})),
    ...change.tags_removed.map((key) => ({mark: '-' as const, what: `tag ${inline(key)}`})),
    ...(change.kms_key_changed ? [{mark: '~' as const, what: 'kms key'}] : []),
    ...(change.description_changed ? [{mark: '~' as const, what: 'description'}] : []),
    ...(change.replicas_added ?? []).map((region) => ({mark: '+' as const, what: `replica ${inline(region)}`})),
    ...(change.replicas_removed ?? []).map((region) => ({mark: '-' as const, what: `replica ${inline(region)}`})),
    ...(change.policy === undefined ? [] : [{mark: POLICY_MARK[change.policy], what: 'resource policy'}]),
  ]
}

const POLICY_MARK = {set: '+', updated: '~', removed: '-'} as const

const MARK_STYLE: Record<'+' | '~' | '-', Style> = {'+': 'green', '~': 'yellow', '-': 'red'}

function keyLines(change: SecretChange, options: SyncTextOptions): string[] {
  const before = options.showValues ? change.before : undefined
  const after = options.showValues ? change.after : undefined
  const line = (style: Style, mark: string, key: string, value: string | undefined): string =>
    `    ${paint(style, `${mark} ${inline(key)}${value === undefined ? '' : `: ${value}`}`, options.color)}`
  const changed = (key: string): string | undefined => {
    const from = valueAt(before, key)
    const to = valueAt(after, key)
    return from === undefined || to === undefined ? undefined : `${from} -> ${to}`
  }
  return [
    ...change.keys_added.map((key) => line('green', '+', key, valueAt(after, key))),
    ...change.keys_removed.map((key) => line('red', '-', key, valueAt(before, key))),
    ...change.keys_changed.map((key) => line('yellow', '~', key, changed(key))),
    ...metadataNotes(change).map(
      (note) => `    ${paint(MARK_STYLE[note.mark], `${note.mark} ${note.what}`, options.color)}`,
    ),
  ]
}

/** A create's or delete's replica regions (`+ replica eu-west-1`), which an update lists among its metadata notes. */
const replicaLines = (change: SecretChange, color: boolean): string[] =>
  metadataNotes(change)
    .filter((note) => note.what.startsWith('replica '))
    .map((note) => `    ${paint(MARK_STYLE[note.mark], `${note.mark} ${note.what}`, color)}`)

/** One change as a line: mark, name, drift/held, and why it failed or was refused. */
export function changeLine(change: SecretChange, color: boolean): string {
  const drift = change.drift ? ' (drift)' : ''
  const held = change.held ? ' (held)' : ''
  const head = paint(STYLE[change.action], `${MARK[change.action]} ${inline(change.name)}${drift}${held}`, color)
  // A held deletion's error already says `held: <why>`.
  if (change.held) return `  ${head} — ${paint('red', inline(change.error ?? 'held'), color)}`
  if (change.action === 'skip') return `  ${head} — ${paint('cyan', `skipped (${change.reason ?? 'rotation'})`, color)}`
  if (change.action === 'conflict') {
    const why = change.error === null ? '' : `: ${inline(change.error)}`
    return `  ${head} — ${paint('magenta', `conflict${why}`, color)}`
  }
  return change.error === null ? `  ${head}` : `  ${head} — ${paint('red', `failed: ${inline(change.error)}`, color)}`
}

/** The lines under a target's heading: changes with key detail, the target's error, the unchanged count. */
export function targetBodyLines(target: TargetSyncResult, options: SyncTextOptions): string[] {
  const lines: string[] = []
  if (target.error !== null) lines.push(`  ${paint('red', `error: ${inline(target.error)}`, options.color)}`)
  for (const change of target.changes) {
    lines.push(changeLine(change, options.color))
    // Key detail is what reviewers need for an update; for a create or delete the whole secret is the change.
    if (change.action === 'update' || change.action === 'restore') lines.push(...keyLines(change, options))
    else lines.push(...replicaLines(change, options.color))
  }
  // A healthy target with nothing to do still says so, rather than printing a bare heading.
  if (target.unchanged > 0 || (target.changes.length === 0 && target.error === null)) {
    lines.push(`  (${target.unchanged} unchanged)`)
  }
  return lines
}

/** Human diff of a sync run, grouped per target; values only with `showValues`. */
export function renderSyncText(result: SyncRunResult, options: SyncTextOptions): string {
  return [...syncTextChunks(result, options)].join('')
}

/** `renderSyncText`'s text in pieces, one target at a time (a run's targets are read back one by one). */
export function* syncTextChunks(result: SyncRunResult, options: SyncTextOptions): Generator<string> {
  // Fields are escaped where they enter; the line guard also catches a command formed across two fields.
  const text = (lines: readonly string[]): string => `${lines.map(guardLine).join('\n')}\n`
  for (const target of result.targets) {
    yield text([paint('bold', targetHeading(target), options.color), ...targetBodyLines(target, options)])
  }
  yield text([paint('bold', syncSummaryLine(result), options.color)])
}
