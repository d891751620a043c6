import {parseConfig, type VaultConfig} from '../../../src/config/index.js'
import {buildTargetGraph} from '../../../src/graph/target-graph.js'
import {runMergePhase, type MergePhaseResult} from '../../../src/merge/merge-phase.js'
import {createBreakers} from '../../../src/resilience/breakers.js'
import {connectVault, type VaultReader} from '../../../src/vault/vault-client.js'
import {recordingRuntime} from '../../support/runtime.js'

export interface MergeRunOptions {
  address: string
  auth: VaultConfig['auth']
  concurrency: number
  sources: Array<{name: string; mount: string; max_depth?: number}>
  targets: Array<{name: string; imports: string[]}>
  /** Retry attempts for 5xx (default 5, with millisecond delays). */
  maxAttempts?: number
  now?: () => number
  /** Wraps the connected reader (e.g. to move a test clock on every read). */
  wrapReader?: (reader: VaultReader) => VaultReader
  /** An already connected reader to use instead of logging in (many runs against one server). */
  reader?: VaultReader
}

/** The merge phase in-process, as the pipeline runs it: a config, its graph, the real Vault client over HTTP. */
export async function runMerge(options: MergeRunOptions): Promise<MergePhaseResult & {logs: () => string}> {
  const yaml = JSON.stringify({
    vault: {address: options.address, auth: {method: 'token'}, concurrency: options.concurrency},
    vault_sources: options.sources,
    targets: options.targets.map((t) => ({...t, type: 'aws_secretsmanager', region: 'us-east-1'})),
  })
  const {config} = parseConfig(yaml, 'secretsync.yaml', {env: {}})
  const built = buildTargetGraph(
    config.vault_sources.map((s) => s.name),
    config.targets.map((t) => ({name: t.name, imports: t.imports})),
  )
  if (!built.ok) throw new Error(`bad test graph: ${JSON.stringify(built.issues)}`)
  const runtime = {...recordingRuntime(), ...(options.now ? {now: options.now} : {})}
  const vault = {...(config.vault as VaultConfig), auth: options.auth}
  const result = await runMergePhase({
    config,
    graph: built.graph,
    targets: built.graph.order,
    runtime,
    connectVault: async () =>
      options.reader ??
      (options.wrapReader ?? ((reader: VaultReader) => reader))(
        await connectVault({
          config: vault,
          logger: runtime.logger,
          redactor: runtime.redactor,
          env: {},
          retry: {maxAttempts: options.maxAttempts ?? 5, baseDelayMs: 1, maxDelayMs: 3},
          breakers: createBreakers(
            {enabled: false, failure_threshold: 5, window: 10_000, timeout: 30_000, max_requests: 1},
            {logger: runtime.logger},
          ),
          now: options.now,
        }),
      ),
  })
  return {...result, logs: runtime.logs}
}
