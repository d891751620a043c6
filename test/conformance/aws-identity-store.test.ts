import {CreateGroupCommand, GetGroupIdCommand, IdentitystoreClient} from '@aws-sdk/client-identitystore'
import {ListInstancesCommand, SSOAdminClient} from '@aws-sdk/client-sso-admin'
import {afterEach, describe, expect, it} from 'vitest'
import {onMoto, useAwsEndpoint} from './endpoint.js'

// Identity Store GetGroupId (what discovery uses to turn a group display name into its id), checked against the
// Identity Store API Reference through the real SDK client, on the project's server and on moto alike.

const endpoint = useAwsEndpoint()
const clients: Array<{destroy(): void}> = []

const identityStore = (): IdentitystoreClient => {
  const {url, base} = endpoint.current()
  const client = new IdentitystoreClient({endpoint: url, region: 'us-east-1', credentials: base, maxAttempts: 1})
  clients.push(client)
  return client
}

/** The instance's identity store with groups: seeded from state on the server, created through the API on moto. */
async function storeWithGroups(...names: string[]): Promise<{identityStoreId: string; ids: Record<string, string>}> {
  const {server, url, base} = endpoint.current()
  if (server) {
    const {identityStoreId} = server.ssoAdmin.addInstance()
    return {
      identityStoreId,
      ids: Object.fromEntries(
        names.map((name) => [name, server.ssoAdmin.addGroup({identityStoreId, displayName: name})]),
      ),
    }
  }
  // moto has one Identity Center instance per account and region, and CreateGroup.
  const sso = new SSOAdminClient({endpoint: url, region: 'us-east-1', credentials: base})
  clients.push(sso)
  const identityStoreId = (await sso.send(new ListInstancesCommand({}))).Instances?.[0]?.IdentityStoreId as string
  const ids: Record<string, string> = {}
  for (const name of names) {
    ids[name] = (
      await identityStore().send(new CreateGroupCommand({IdentityStoreId: identityStoreId, DisplayName: name}))
    ).GroupId as string
  }
  return {identityStoreId, ids}
}

const byDisplayName = (identityStoreId: string, displayName: string) =>
  new GetGroupIdCommand({
    IdentityStoreId: identityStoreId,
    AlternateIdentifier: {UniqueAttribute: {AttributePath: 'displayName', AttributeValue: displayName}},
  })

afterEach(() => {
  for (const client of clients.splice(0)) client.destroy()
})

describe('GetGroupId', () => {
  it('answers the GroupId of the group with that display name, in that identity store', async () => {
    const {identityStoreId, ids} = await storeWithGroups('Platform', 'Finance')

    const response = await identityStore().send(byDisplayName(identityStoreId, 'Platform'))

    expect(response).toMatchObject({GroupId: ids.Platform, IdentityStoreId: identityStoreId})
    // The documented GroupId pattern, which discovery uses to tell ids from names
    expect(response.GroupId).toMatch(
      /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/,
    )
    // moto 5.2.1 makes store ids of `d-` and 10 random letters, outside the documented pattern (the reference wins)
    if (!onMoto)
      expect(identityStoreId).toMatch(/^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  })

  it('answers ResourceNotFoundException (ResourceType GROUP) for a display name no group has', async () => {
    const {identityStoreId} = await storeWithGroups('Platform')

    const error = await identityStore()
      .send(byDisplayName(identityStoreId, 'Nobody'))
      .catch((e: unknown) => e as Error & {ResourceType?: string; $metadata?: {httpStatusCode?: number}})

    expect(error).toMatchObject({name: 'ResourceNotFoundException', ResourceType: 'GROUP'})
    expect(error.$metadata?.httpStatusCode).toBe(400)
  })
})
