import type {IdentitystoreClient} from '@aws-sdk/client-identitystore'
import type {OrganizationsClient} from '@aws-sdk/client-organizations'
import type {SSOAdminClient} from '@aws-sdk/client-sso-admin'
import {awsClientConfig, defaultRegion} from '../aws/client-config.js'
import type {roleCredentials as RoleCredentials} from '../aws/target-credentials.js'
import type {Config} from '../config/schema.js'
import type {DiscoveryClients} from '../discovery/index.js'
import type {Metrics} from '../observability/metrics.js'
import {withBreaker} from '../resilience/aws-middleware.js'
import type {Breakers} from '../resilience/breakers.js'
import type {AwsClientOptions} from './compose.js'

/** What discovery clients share with every other AWS client of the run. */
interface DiscoveryAdapters {
  awsClient: AwsClientOptions
  breakers: Breakers
  metrics: Metrics
}

/** Clients for discovery, one per (role, region), through the run's breakers and retry policy. */
interface DiscoverySdk {
  OrganizationsClient: new (config: object) => OrganizationsClient
  SSOAdminClient: new (config: object) => SSOAdminClient
  IdentitystoreClient: new (config: object) => IdentitystoreClient
  roleCredentials: typeof RoleCredentials
}

function discoveryClients(
  config: Config,
  runId: string,
  adapters: DiscoveryAdapters,
  sdk: DiscoverySdk,
): DiscoveryClients & {destroy(): void} {
  const {OrganizationsClient, SSOAdminClient, IdentitystoreClient, roleCredentials} = sdk
  type Client = OrganizationsClient | SSOAdminClient | IdentitystoreClient
  const made = new Map<string, Client>()
  const build = <C extends Client>(
    kind: 'organizations' | 'sso-admin',
    Client: new (config: object) => C,
    roleArn?: string,
    region?: string,
  ): C => {
    const key = `${kind}|${Client.name}|${roleArn ?? ''}|${region ?? ''}`
    const existing = made.get(key)
    if (existing) return existing as C
    const actualRegion = region ?? defaultRegion(config)
    const credentials = roleCredentials({
      region: actualRegion,
      roleArn,
      externalId: config.aws.external_id,
      runId,
      client: adapters.awsClient,
      breakers: adapters.breakers,
      metrics: adapters.metrics,
    })
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
 * Discovery's clients, built by the composition root like every other client. The SDK clients are imported here,
 * not at the top: only runs with a discovery block talk to Organizations or Identity Center.
 */
export async function connectDiscovery(
  config: Config,
  runId: string,
  adapters: DiscoveryAdapters,
): Promise<DiscoveryClients & {destroy(): void}> {
  const [{OrganizationsClient}, {SSOAdminClient}, {IdentitystoreClient}, {roleCredentials}] = await Promise.all([
    import('@aws-sdk/client-organizations'),
    import('@aws-sdk/client-sso-admin'),
    import('@aws-sdk/client-identitystore'),
    import('../aws/target-credentials.js'),
  ])
  return discoveryClients(config, runId, adapters, {
    OrganizationsClient,
    SSOAdminClient,
    IdentitystoreClient,
    roleCredentials,
  })
}
