import {ExitCode, mostSevere} from './errors.js'
import type {SyncRunResult} from './sync/types.js'

/**
 * Where every outcome becomes an exit code (docs/design.md §2). One rule, applied to each kind of result: 0 when
 * nothing went wrong; 1 when something went wrong and nothing succeeded; 3 when something went wrong beside
 * things that succeeded. Errors thrown to the CLI carry their own code (`exitCodeOf` in errors.ts); a run that
 * ends several ways ends with the most severe (`mostSevere`).
 */
export const outcomeExitCode = (outcome: {problems: number; nothingSucceeded: boolean}): ExitCode =>
  outcome.problems === 0 ? ExitCode.success : outcome.nothingSucceeded ? ExitCode.failure : ExitCode.partial

/**
 * A sync run: problems are failed targets and secrets, conflicts and held deletions, and a target's error beside
 * its applied changes. "Nothing at all could be applied" (DESIGN §2): every target failed, or writes were
 * attempted and none succeeded — secrets already in sync are not something this run applied. Conflicts and held
 * deletions are refusals, not failed writes: alone they leave the run partial (3). 4 for changes with --exit-code.
 */
export function syncExitCode(result: SyncRunResult, exitCodeOnChanges: boolean): ExitCode {
  const s = result.summary
  const counted = s.failed_targets + s.failed + s.conflicts
  // Only whether there is any problem matters: the targets are read (a pass over them) only when no count says so.
  const problems = counted > 0 ? counted : anyTargetError(result.targets) ? 1 : 0
  const succeeded = s.created + s.updated + s.restored + s.deleted
  const failure = outcomeExitCode({
    problems,
    nothingSucceeded: (s.failed_targets === s.targets && s.targets > 0) || (succeeded === 0 && s.failed - s.held > 0),
  })
  return mostSevere(failure, exitCodeOnChanges && succeeded > 0 ? ExitCode.changes : ExitCode.success)
}

const anyTargetError = (targets: SyncRunResult['targets']): boolean => {
  for (const target of targets) if (target.status !== 'failed' && target.error !== null) return true
  return false
}

/** A merge run: the targets whose snapshot could not be built or recorded. */
export const mergeExitCode = (summary: {targets: number; failed_targets: number}): ExitCode =>
  outcomeExitCode({problems: summary.failed_targets, nothingSucceeded: summary.failed_targets === summary.targets})

/** Discovery: failed blocks and accounts that could not be read; the run goes on without them. */
export const discoveryExitCode = (
  summary: {failed_blocks: number; account_errors: number},
  enabledBlocks: number,
): ExitCode =>
  outcomeExitCode({
    problems: summary.failed_blocks + summary.account_errors,
    nothingSucceeded: summary.failed_blocks >= enabledBlocks,
  })

/** `version list`: unreadable snapshots are listed with their error beside the readable ones. */
export const historyExitCode = (versions: ReadonlyArray<{error: string | null}>): ExitCode =>
  outcomeExitCode({problems: versions.filter((v) => v.error !== null).length, nothingSucceeded: false})

/** `validate --check-access`: any check that failed fails the command (the config itself is valid). */
export const accessExitCode = (checks: ReadonlyArray<{ok: boolean}> | undefined): ExitCode =>
  outcomeExitCode({problems: (checks ?? []).filter((check) => !check.ok).length, nothingSucceeded: true})
