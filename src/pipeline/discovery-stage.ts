import type {IdentitystoreClient} from '@aws-sdk/client-identitystore'
import type {OrganizationsClient} from '@aws-sdk/client-organizations'
import type {SSOAdminClient} from '@aws-sdk/client-sso-admin'
import {awsClientConfig, defaultRegion} from '../aws/client-config.js'
import type {roleCredentials as RoleCredentials} from '../aws/target-credentials.js'
import type {Config} from '../config/schema.js'
import type {DiscoveryClients, DiscoveryReport} from '../discovery/index.js'
import {ConfigError, ExitCode} from '../errors.js'
import {discoveryExitCode} from '../exit-codes.js'
import {buildTargetGraph, type TargetGraph} from '../graph/target-graph.js'
import {withBreaker} from '../resilience/aws-middleware.js'
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

/** Clients for discovery, one per (role, region), through the run's breakers and retry policy. */
interface DiscoverySdk {
  OrganizationsClient: new (config: object) => OrganizationsClient
  SSOAdminClient: new (config: object) => SSOAdminClient
  IdentitystoreClient: new (config: object) => IdentitystoreClient
  roleCredentials: typeof RoleCredentials
}

function discoveryClients(config: Config, runtime: Runtime, adapters: Adapters, sdk: DiscoverySdk): DiscoveryClients & {destroy(): void} {
  const {OrganizationsClient, SSOAdminClient, IdentitystoreClient, roleCredentials} = sdk
  type Client = OrganizationsClient | SSOAdminClient | IdentitystoreClient
  const made = new Map<string, Client>()
  const build = <C extends Client>(kind: 'organizations' | 'sso-admin', Client: new (config: object) => C, roleArn?: string, region?: string): C => {
    const key = `${kind}|${Client.name}|${roleArn ?? ''}|${region ?? ''}`
    const existing = made.get(key)
    if (existing) return existing as C
    const actualRegion = region ?? defaultRegion(config)
    const credentials = roleCredentials({region: actualRegion, roleArn, externalId: config.aws.external_id, runId: runtime.runId, client: adapters.awsClient, breakers: adapters.breakers, metrics: adapters.metrics})
    const client = new Client(awsClientConfig({...adapters.awsClient, region: actualRegion, credentials}))
    withBreaker(client as unknown as OrganizationsClient, kind, adapters.breakers, {metrics: adapters.metrics})
    made.set(key, client)
    return client
  }
  return {
    organizations: (roleArn, region) => build('organizations', OrganizationsClient, roleArn, region),
    ssoAdmin: (roleArn, region) => build('sso-admin', SSOAdminClient, roleArn, region),
    // The Identity Store is Identity Center's directory: it shares the sso-admin breaker (one outage, one breaker).
    identityStore: (roleArn, region) => build('sso-admin', IdentitystoreClient, roleArn, region),
    destroy: () => made.forEach((client) => client.destroy()),
  }
}

/**
 * Runs the enabled discovery blocks and joins the accounts they produce to the graph as targets. Without
 * discovery blocks this is the static graph. Graph problems with discovered targets are config errors.
 */
export async function discoverProject(config: Config, staticGraph: TargetGraph, runtime: Runtime, adapters: Adapters, options: {noCache: boolean; dryRun: boolean}): Promise<DiscoveredProject> {
  if (!config.discovery.some((block) => block.enabled)) return {config, graph: staticGraph, report: undefined, exitCode: ExitCode.success}
  // Imported here, not at the top: only runs with a discovery block talk to Organizations or Identity Center,
  // and every other start should not pay for loading discovery and its SDK clients.
  const [discovery, {OrganizationsClient}, {SSOAdminClient}, {IdentitystoreClient}, {roleCredentials}] = await Promise.all([
    import('../discovery/index.js'),
    import('@aws-sdk/client-organizations'),
    import('@aws-sdk/client-sso-admin'),
    import('@aws-sdk/client-identitystore'),
    import('../aws/target-credentials.js'),
  ])
  const {createMemoryDiscoveryCache, createStoreDiscoveryCache, discoverTargets, DiscoveryObjectStore, readOnlyDiscoveryCache} = discovery
  const store = config.merge_store?.enabled ? config.merge_store : undefined
  const baseCache = store && adapters.s3
    ? createStoreDiscoveryCache(new DiscoveryObjectStore(adapters.s3, {bucket: store.bucket, prefix: store.prefix, kmsKeyId: store.kms_key_id}))
    : createMemoryDiscoveryCache()
  const clients = discoveryClients(config, runtime, adapters, {OrganizationsClient, SSOAdminClient, IdentitystoreClient, roleCredentials})
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
    const built = buildTargetGraph(config.vault_sources.map((source) => source.name), all)
    if (!built.ok) {
      throw new ConfigError(built.issues.map((issue) => ({file: 'discovery', path: `targets[${all[issue.targetIndex]?.name ?? issue.targetIndex}]`, message: issue.message})))
    }
    const enabled = report.blocks.filter((block) => block.status !== 'disabled').length
    const exitCode = discoveryExitCode(report.summary, enabled)
    runtime.logger.info('discovery done', {blocks: report.summary.blocks, accounts: report.summary.accounts, targets: targets.length, failed_blocks: report.summary.failed_blocks})
    return {config: {...config, targets: all}, graph: built.graph, report, exitCode}
  } finally {
    adapters.metrics.observePhase('discovery', (runtime.now() - started) / 1000)
    clients.destroy()
  }
}
