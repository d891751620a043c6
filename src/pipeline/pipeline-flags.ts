import type {Config} from '../config/schema.js'
import {UsageError} from '../errors.js'
import {parseTargetNames} from './select-targets.js'

export interface PipelineFlags {
  mergeOnly: boolean
  syncOnly: boolean
  targets?: string
  version?: number
}

/** What the flags ask for, once they are known to fit together. */
export interface PipelineMode {
  /** `--sync-only`, or `--version N` (which syncs a stored snapshot). */
  syncOnly: boolean
  /** The names given to --targets, parsed once. */
  targetNames: string[]
}

/** Flags that exclude each other: checked before the config is read. */
export function checkFlagsAlone(flags: PipelineFlags): void {
  if (flags.mergeOnly && flags.syncOnly) throw new UsageError('--merge-only and --sync-only exclude each other')
}

/** Flags checked against each other and the config: usage errors (exit 2) before anything is contacted. */
export function checkFlagsWithConfig(flags: PipelineFlags, config: Config): PipelineMode {
  const syncOnly = flags.syncOnly || flags.version !== undefined
  const targetNames = parseTargetNames(flags.targets)
  if (flags.version !== undefined && targetNames.length !== 1) {
    throw new UsageError('--version N needs exactly one target in --targets', {code: 'VERSION_NEEDS_TARGET'})
  }
  if (syncOnly && !config.merge_store?.enabled) {
    throw new UsageError(
      '--sync-only and --version read snapshots from the merge store, and merge_store is not configured',
      {code: 'NO_MERGE_STORE'},
    )
  }
  return {syncOnly, targetNames}
}
