import type {IdentitystoreClient} from '@aws-sdk/client-identitystore'
import type {OrganizationsClient} from '@aws-sdk/client-organizations'
import type {SSOAdminClient} from '@aws-sdk/client-sso-admin'
import {awsClientConfig, defaultRegion} from '../aws/client-config.js'
import type {RoleSessions} from '../aws/target-credentials.js'
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
  /** The run's identities: a discovery role that is also a target's is assumed once for both. */
  sessions: RoleSessions
}

/** Clients for discovery, one per (role, region), through the run's breakers and retry policy. */
interface DiscoverySdk {
  OrganizationsClient: new (config: object) => OrganizationsClient
  SSOAdminClient: new (config: object) => SSOAdminClient
  IdentitystoreClient: new (config: object) => IdentitystoreClient
}

function discoveryClients(
  config: Config,
  adapters: DiscoveryAdapters,
  sdk: DiscoverySdk,
): DiscoveryClients & {destroy(): void} {
  const {OrganizationsClient, SSOAdminClient, IdentitystoreClient} = sdk
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
    const credentials = adapters.sessions.credentials({
      region: actualRegion,
      roleArn,
      externalId: config.aws.external_id,
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
  adapters: DiscoveryAdapters,
): Promise<DiscoveryClients & {destroy(): void}> {
  const [{OrganizationsClient}, {SSOAdminClient}, {IdentitystoreClient}] = await Promise.all([
    import('@aws-sdk/client-organizations'),
    import('@aws-sdk/client-sso-admin'),
    import('@aws-sdk/client-identitystore'),
  ])
  return discoveryClients(config, adapters, {OrganizationsClient, SSOAdminClient, IdentitystoreClient})
}
