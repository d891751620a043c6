import type {Config} from '../config/schema.js'
import type {DiscoveryReport} from '../discovery/index.js'
import {ConfigError, ExitCode} from '../errors.js'
import {discoveryExitCode} from '../exit-codes.js'
import {buildTargetGraph, type TargetGraph} from '../graph/target-graph.js'
import type {Runtime} from '../runtime.js'
import type {Adapters} from './compose.js'

export interface DiscoveredProject {
  /** The config with discovered targets appended to the static ones. */
  config: Config
  graph: TargetGraph
  report: DiscoveryReport | undefined
  /** 0, or 3/1 when discovery blocks failed (the rest of the run goes on without their accounts). */
  exitCode: ExitCode
}

/**
 * Runs the enabled discovery blocks and joins the accounts they produce to the graph as targets. Without
 * discovery blocks this is the static graph. Graph problems with discovered targets are config errors.
 */
export async function discoverProject(
  config: Config,
  staticGraph: TargetGraph,
  runtime: Runtime,
  adapters: Adapters,
  options: {noCache: boolean; dryRun: boolean},
): Promise<DiscoveredProject> {
  if (!config.discovery.some((block) => block.enabled))
    return {config, graph: staticGraph, report: undefined, exitCode: ExitCode.success}
  // Imported here, not at the top: only runs with a discovery block talk to Organizations or Identity Center,
  // and every other start should not pay for loading discovery and its SDK clients.
  const [discovery, clients] = await Promise.all([import('../discovery/index.js'), adapters.connectDiscovery()])
  const {
    createMemoryDiscoveryCache,
    createStoreDiscoveryCache,
    discoverTargets,
    DiscoveryObjectStore,
    readOnlyDiscoveryCache,
  } = discovery
  const store = config.merge_store?.enabled ? config.merge_store : undefined
  const baseCache =
    store && adapters.s3
      ? createStoreDiscoveryCache(
          new DiscoveryObjectStore(adapters.s3, {
            bucket: store.bucket,
            prefix: store.prefix,
            kmsKeyId: store.kms_key_id,
          }),
        )
      : createMemoryDiscoveryCache()
  const started = runtime.now()
  try {
    const {targets, report} = await discoverTargets({
      blocks: config.discovery,
      staticTargets: config.targets,
      sources: config.vault_sources.map((source) => source.name),
      clients,
      // A dry run writes nothing anywhere, the discovery cache included.
      cache: options.dryRun ? readOnlyDiscoveryCache(baseCache) : baseCache,
      noCache: options.noCache,
      now: runtime.now,
      logger: runtime.logger,
      runId: runtime.runId,
    })
    const all = [...config.targets, ...targets]
    const built = buildTargetGraph(
      config.vault_sources.map((source) => source.name),
      all,
    )
    if (!built.ok) {
      throw new ConfigError(
        built.issues.map((issue) => ({
          file: 'discovery',
          path: `targets[${all[issue.targetIndex]?.name ?? issue.targetIndex}]`,
          message: issue.message,
        })),
      )
    }
    const enabled = report.blocks.filter((block) => block.status !== 'disabled').length
    const exitCode = discoveryExitCode(report.summary, enabled)
    runtime.logger.info('discovery done', {
      blocks: report.summary.blocks,
      accounts: report.summary.accounts,
      targets: targets.length,
      failed_blocks: report.summary.failed_blocks,
    })
    return {config: {...config, targets: all}, graph: built.graph, report, exitCode}
  } finally {
    adapters.metrics.observePhase('discovery', (runtime.now() - started) / 1000)
    clients.destroy()
  }
}
