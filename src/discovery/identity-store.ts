import {GetGroupIdCommand, ResourceNotFoundException, type IdentitystoreClient} from '@aws-sdk/client-identitystore'
import type {GroupResolver} from './types.js'

/**
 * Resolves an Identity Center group display name to its id with Identity Store GetGroupId (the unique attribute
 * `displayName`, the only valid path per the API reference). Display names are unique within an identity store,
 * so one call answers; an unknown name is `ResourceNotFoundException` (ResourceType GROUP), reported as undefined.
 * An unknown identity store is an error of its own and fails the block as such.
 */
export const identityStoreGroupResolver =
  (client: IdentitystoreClient): GroupResolver =>
  async (displayName, {identityStoreId}) => {
    try {
      const response = await client.send(
        new GetGroupIdCommand({
          IdentityStoreId: identityStoreId,
          AlternateIdentifier: {UniqueAttribute: {AttributePath: 'displayName', AttributeValue: displayName}},
        }),
      )
      return response.GroupId
    } catch (error) {
      if (error instanceof ResourceNotFoundException && error.ResourceType !== 'IDENTITY_STORE') return undefined
      throw error
    }
  }
