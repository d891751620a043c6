import pLimit from 'p-limit'
import type {Config, VaultSourceConfig} from '../config/schema.js'
import {formatOperationError, SecretSyncError} from '../errors.js'
import type {TargetGraph} from '../graph/target-graph.js'
import type {Runtime} from '../runtime.js'
import {retriesOf} from '../resilience/retry.js'
import type {JsonObject} from '../util/canonical-json.js'
import {describeVaultFailure} from '../vault/vault-errors.js'
import type {VaultReader} from '../vault/vault-client.js'
import {walkVaultTree, WalkAccountingError, type SkippedItem, type WalkStats} from '../vault/walk.js'
import {countSkips, describeIncomplete, incompleteItems, type SkipCounts} from './completeness.js'
import {
  mergeTargets,
  type MergeTargetInput,
  type SecretMap,
  type SourceOutcome,
  type TargetMergeOutcome,
} from './merge-targets.js'

export interface SourceReport {
  name: string
  mount: string
  status: 'ok' | 'failed'
  secrets: number
  folders: number
  warnings: string[]
  error: string | null
  /** Nothing was skipped for a reason other than "deleted" (false for a failed source). */
  complete: boolean
  /** Skipped folders and keys per reason. */
  skipped: SkipCounts
  /** Every skip that makes the source incomplete (all but deleted secrets), with its Vault path. */
  skipped_items: SkippedItem[]
  stats: WalkStats | null
}

export interface MergedTarget {
  name: string
  ok: boolean
  secrets: SecretMap
  sources: string[]
  error: string | null
  /** Why the merged state may be missing secrets (a feeding source was not walked completely); empty when complete. */
  incomplete: string[]
}

export interface MergePhaseResult {
  sources: SourceReport[]
  targets: MergedTarget[]
}

export interface MergePhaseInput {
  config: Config
  graph: TargetGraph
  /** Targets to merge, dependencies included, in topological order. */
  targets: readonly string[]
  runtime: Runtime
  /** Connects (and logs in) to Vault; called only when a selected target reads a source. */
  connectVault: () => Promise<VaultReader>
  onProgress?: (progress: {source: string; folders: number; secrets: number}) => void
}

/** Every source the selected targets read, walked: the reports (config order) and what each one gave. */
export interface WalkedSources {
  sources: SourceReport[]
  outcomes: ReadonlyMap<string, SourceOutcome>
  /** Why each source's secrets may be incomplete (describeIncomplete); empty for a complete source. */
  incompleteBySource: ReadonlyMap<string, string[]>
}

/**
 * Walks every source the selected targets read, concurrently, every Vault request under one `vault.concurrency`
 * limiter. A source that fails is reported as failed; the others go on.
 */
export async function walkSources(input: MergePhaseInput): Promise<WalkedSources> {
  const {config, graph, runtime} = input
  const needed = new Set(input.targets.flatMap((target) => graph.sourcesOf(target)))
  const sources = config.vault_sources.filter((source) => needed.has(source.name))
  const outcomes = new Map<string, SourceOutcome>()
  const reports: SourceReport[] = []
  const incompleteBySource = new Map<string, string[]>()

  if (sources.length > 0) {
    const started = runtime.now()
    let reader: VaultReader | undefined
    let loginError: string | undefined
    try {
      reader = await input.connectVault()
    } catch (error) {
      const cause = error instanceof Error ? error.message : String(error)
      loginError = formatOperationError(
        {
          runId: runtime.runId,
          operation: 'vault login',
          subject: config.vault?.address ?? '',
          durationMs: runtime.now() - started,
          retries: retriesOf(error),
        },
        cause,
      )
      runtime.logger.error('vault login failed; every source fails', {error: loginError})
    }
    const limit = pLimit(config.vault?.concurrency ?? 16)
    await Promise.all(
      sources.map(async (source) => {
        const {report, secrets} = reader
          ? await walkSource(reader, source, limit, input)
          : failedSource(source, loginError ?? 'not connected')
        reports.push(report)
        incompleteBySource.set(source.name, describeIncomplete(source.name, report.skipped_items))
        outcomes.set(source.name, secrets ? {ok: true, secrets} : {ok: false, error: report.error ?? ''})
      }),
    )
  }
  const order = new Map(config.vault_sources.map((source, index) => [source.name, index]))
  reports.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0))
  return {sources: reports, outcomes, incompleteBySource}
}

/** The targets as `mergeTargets` takes them, from the config. */
export const mergeInputs = (config: Config): MergeTargetInput[] =>
  config.targets.map((target) => ({
    name: target.name,
    imports: target.imports,
    selections: target.import_selections,
    overrides: target.overrides as JsonObject,
  }))

/** A target's merge outcome as the phase reports it: with its sources' incompleteness, or failed with why. */
export function mergedTarget(
  name: string,
  outcome: TargetMergeOutcome | undefined,
  graph: TargetGraph,
  walked: WalkedSources,
): MergedTarget {
  return outcome?.ok
    ? {
        name,
        ok: true,
        secrets: outcome.secrets,
        sources: outcome.sources,
        error: null,
        incomplete: outcome.sources.flatMap((source) => walked.incompleteBySource.get(source) ?? []),
      }
    : {
        name,
        ok: false,
        secrets: new Map(),
        sources: graph.sourcesOf(name),
        error: outcome?.error ?? 'not merged',
        incomplete: [],
      }
}

/**
 * Phase 1 without the store, all at once: walk every source the selected targets read, then merge targets in
 * topological order. A source that fails fails the targets that read it; the others go on. (The pipeline streams
 * instead: see src/pipeline/target-merger.ts.)
 */
export async function runMergePhase(input: MergePhaseInput): Promise<MergePhaseResult> {
  const walked = await walkSources(input)
  const {config, graph} = input
  const merged = mergeTargets(graph, mergeInputs(config), walked.outcomes, config.merge.lists, input.targets)
  const targets = input.targets.map((name) => mergedTarget(name, merged.get(name), graph, walked))
  return {sources: walked.sources, targets}
}

interface WalkedSource {
  report: SourceReport
  secrets?: SecretMap
}

const failedSource = (source: VaultSourceConfig, error: string): WalkedSource => ({
  report: {
    name: source.name,
    mount: source.mount,
    status: 'failed',
    secrets: 0,
    folders: 0,
    warnings: [],
    error,
    complete: false,
    skipped: countSkips([]),
    skipped_items: [],
    stats: null,
  },
})

async function walkSource(
  reader: VaultReader,
  source: VaultSourceConfig,
  limit: ReturnType<typeof pLimit>,
  input: MergePhaseInput,
): Promise<WalkedSource> {
  const {runtime} = input
  const started = runtime.now()
  try {
    // The mount lookup is a Vault request too: it waits its turn under vault.concurrency like the walk's.
    const {mount, relative} = await limit(() => reader.resolveMount(source.mount))
    const root = relative === '' || relative.endsWith('/') ? relative : `${relative}/`
    const result = await walkVaultTree(reader, {
      mount,
      root,
      maxSecrets: source.max_secrets,
      maxDepth: source.max_depth,
      compactionThreshold: source.queue_compaction_threshold,
      limit,
      logger: runtime.logger,
      onProgress: (progress) => input.onProgress?.({source: source.name, ...progress}),
    })
    const skipped = countSkips(result.skipped)
    runtime.logger.info('source walked', {
      source: source.name,
      secrets: result.stats.secrets,
      folders: result.stats.folders,
      lists: result.stats.lists,
      reads: result.stats.reads,
      complete: result.complete,
      skipped,
      duration_ms: runtime.now() - started,
    })
    if (!result.complete)
      runtime.logger.warn('source walked incompletely; targets reading it hold their deletions', {
        source: source.name,
        reasons: describeIncomplete(source.name, result.skipped),
      })
    const report: SourceReport = {
      name: source.name,
      mount: source.mount,
      status: 'ok',
      secrets: result.secrets.size,
      folders: result.stats.folders,
      warnings: result.warnings,
      error: null,
      complete: result.complete,
      skipped,
      skipped_items: incompleteItems(result.skipped),
      stats: result.stats,
    }
    return {
      report,
      secrets: result.secrets,
    }
  } catch (error) {
    if (error instanceof WalkAccountingError) {
      const message = `[run=${runtime.runId}] source "${source.name}": ${error.message}`
      runtime.logger.error('source failed', {source: source.name, error: message})
      return failedSource(source, message)
    }
    const failure = error as {operation?: string; path?: string}
    const cause =
      error instanceof SecretSyncError || (error instanceof Error && !('response' in error) && !('code' in error))
        ? error.message
        : describeVaultFailure(error).message
    const message = formatOperationError(
      {
        runId: runtime.runId,
        operation: failure.operation ? `vault ${failure.operation}` : 'walk',
        subject: failure.path ?? source.mount,
        durationMs: runtime.now() - started,
        retries: retriesOf(error),
      },
      cause,
    )
    runtime.logger.error('source failed', {source: source.name, error: message})
    return failedSource(source, message)
  }
}
