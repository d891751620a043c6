import type {Config} from '../config/schema.js'
import {ExitCode} from '../errors.js'
import {pushMetrics, serveMetrics} from '../observability/metrics-server.js'
import {createProgress} from '../observability/progress.js'
import type {Runtime} from '../runtime.js'
import type {SyncRunResult} from '../sync/types.js'
import type {Adapters} from './compose.js'
import type {Shard} from './shard.js'

export interface ObservabilityOptions {
  metricsPort?: number
  pushgateway?: string
  /** What this run is, for its own Pushgateway group: the phases it runs and, when sharded, its shard. */
  pushGroup: PushGroup
  /** Where the progress line goes. */
  stderr: NodeJS.WritableStream
}

export interface PushGroup {
  /** `merge` (--merge-only), `sync` (--sync-only, --version) or `pipeline` (both). */
  phase: 'merge' | 'sync' | 'pipeline'
  shard?: Shard
}

/**
 * The grouping key below the job: `phase/<phase>` and, for a sharded run, `shard/<i>`. One group per run kind and
 * shard, so a merge-only CronJob, the sync shards and a full pipeline keep their own metrics on the Pushgateway
 * and a failed shard's push (success time 0) is not replaced by another shard's success.
 */
export const pushGroupings = (group: PushGroup): Record<string, string> => ({
  phase: group.phase,
  ...(group.shard ? {shard: String(group.shard.index)} : {}),
})

/**
 * Metrics served during the run (`--metrics-port`, or metrics.enabled with metrics.port) and pushed at the end
 * (`--pushgateway` or metrics.pushgateway), plus progress on stderr. A failed push is a warning, never a failure.
 */
export async function startObservability(
  config: Config,
  runtime: Runtime,
  adapters: Adapters,
  options: ObservabilityOptions,
) {
  const port = options.metricsPort ?? (config.metrics.enabled ? config.metrics.port : undefined)
  const server =
    port !== undefined ? await serveMetrics(adapters.metrics.registry, {port, path: config.metrics.path}) : undefined
  if (server) runtime.logger.info('serving metrics', {url: server.url})
  const progress = createProgress({logger: runtime.logger, stream: options.stderr, now: runtime.now})
  return {
    progress,
    async stop(exitCode: ExitCode | undefined) {
      progress.stop()
      if (exitCode === ExitCode.success || exitCode === ExitCode.changes) adapters.metrics.markSuccess(runtime.now())
      const pushgateway = options.pushgateway ?? config.metrics.pushgateway
      if (pushgateway) {
        const error = await pushMetrics(adapters.metrics.registry, {
          url: pushgateway,
          job: config.metrics.job,
          groupings: pushGroupings(options.pushGroup),
        })
        if (error) runtime.logger.warn(error.message)
      }
      adapters.breakers.shutdown()
      await server?.close()
    },
  }
}

/** Runs one phase and records how long it took, also when it throws. */
export async function timedPhase<T>(
  runtime: Runtime,
  adapters: Adapters,
  phase: string,
  work: () => Promise<T>,
): Promise<T> {
  const started = runtime.now()
  try {
    return await work()
  } finally {
    adapters.metrics.observePhase(phase, (runtime.now() - started) / 1000)
  }
}

/** Counts what a sync applied, per target and action (failed changes are not counted as synced). */
export function countSynced(adapters: Adapters, result: SyncRunResult): void {
  for (const target of result.targets) {
    for (const change of target.changes)
      if (change.error === null) adapters.metrics.countSynced(target.name, change.action)
    adapters.metrics.countSynced(target.name, 'unchanged', target.unchanged)
  }
}
