import {openProject, type Surroundings} from '../composition-root.js'
import type {DiscoveryReport} from '../discovery/index.js'
import {ExitCode} from '../errors.js'
import {discoverProject} from './discovery-stage.js'

export interface DiscoverOptions {
  configPath: string
  noCache: boolean
  surroundings: Surroundings
}

export interface DiscoverResult {
  report: DiscoveryReport | null
  /** Every target after discovery, static and discovered, in topological order. */
  targets: Array<{
    name: string
    discovered: boolean
    account_id: string | null
    region: string | null
    imports: string[]
  }>
}

/** `secretsync discover`: runs discovery as the pipeline would (cache included) and reports what it found. */
export async function runDiscover(options: DiscoverOptions): Promise<{result: DiscoverResult; exitCode: ExitCode}> {
  const loaded = await openProject(options.configPath, options.surroundings)
  const {runtime, adapters} = loaded
  try {
    const discovered = await discoverProject(loaded.config, loaded.graph, runtime, adapters, {
      noCache: options.noCache,
      dryRun: false,
    })
    const staticNames = new Set(loaded.config.targets.map((target) => target.name))
    const byName = new Map(discovered.config.targets.map((target) => [target.name, target]))
    return {
      result: {
        report: discovered.report ?? null,
        targets: discovered.graph.order.map((name) => {
          const target = byName.get(name)
          return {
            name,
            discovered: !staticNames.has(name),
            account_id: target?.account_id ?? null,
            region: target?.region ?? loaded.config.aws.region ?? null,
            imports: [...(target?.imports ?? [])],
          }
        }),
      },
      exitCode: discovered.exitCode,
    }
  } finally {
    loaded.close()
  }
}
