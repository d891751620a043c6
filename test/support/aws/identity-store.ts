/**
 * Identity Store (JSON 1.1, `X-Amz-Target: AWSIdentityStore.<Operation>`) for the AWS test server: GetGroupId,
 * what discovery needs to turn an Identity Center group display name into its id. Groups come from the SSO Admin
 * state (`addGroup`), one identity store per instance, readable by the accounts that may use the instance.
 *
 * Per the Identity Store API Reference: `IdentityStoreId` is required (1..36 characters, `d-` + 10 hex digits or a
 * UUID); `AlternateIdentifier` is a union (exactly one of `ExternalId`, `UniqueAttribute`); for a unique attribute
 * "the only valid path is displayName" (compared without regard to case, as the service and moto accept
 * `DisplayName` too); an unknown group is `ResourceNotFoundException` with `ResourceType: GROUP`; errors are HTTP 400.
 */
import {JsonMembersError} from './error-render.js'
import {jsonServiceHandler, type JsonOperations} from './protocol.js'
import type {SsoAdminState} from './sso-admin.js'
import {AwsError, type AwsRequest, type AwsServiceHandler} from './types.js'

const IDENTITY_STORE_ID = /^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const validation = (message: string): AwsError => new AwsError('ValidationException', message, 400)

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

function identityStoreIdOf(req: AwsRequest): string {
  const id = req.json.IdentityStoreId
  if (typeof id !== 'string' || id.length < 1 || id.length > 36) {
    throw validation(
      "1 validation error detected: Value at 'identityStoreId' failed to satisfy constraint: Member must have length between 1 and 36",
    )
  }
  if (!IDENTITY_STORE_ID.test(id)) {
    throw validation(
      `1 validation error detected: Value '${id}' at 'identityStoreId' failed to satisfy constraint: Member must satisfy regular expression pattern: ${IDENTITY_STORE_ID.source}`,
    )
  }
  return id
}

/** The union member of `AlternateIdentifier`: exactly one is allowed. */
function alternateIdentifierOf(req: AwsRequest): {displayName: string} | {externalId: {issuer: string; id: string}} {
  const alternate = req.json.AlternateIdentifier
  if (!isObject(alternate)) throw validation('AlternateIdentifier must not be null')
  const members = Object.keys(alternate).filter((key) => alternate[key] !== undefined && alternate[key] !== null)
  if (members.length !== 1) throw validation('AlternateIdentifier must set exactly one of ExternalId, UniqueAttribute')
  const unique = alternate.UniqueAttribute
  if (isObject(unique)) {
    if (typeof unique.AttributePath !== 'string' || unique.AttributePath.toLowerCase() !== 'displayname') {
      throw validation(`Invalid AttributePath ${String(unique.AttributePath)}: the only valid path is displayName`)
    }
    if (typeof unique.AttributeValue !== 'string') throw validation('AttributeValue of displayName must be a string')
    return {displayName: unique.AttributeValue}
  }
  const external = alternate.ExternalId
  if (isObject(external) && typeof external.Issuer === 'string' && typeof external.Id === 'string') {
    return {externalId: {issuer: external.Issuer, id: external.Id}}
  }
  throw validation(`Unknown AlternateIdentifier member ${members[0] ?? ''}`)
}

const notFound = (resourceType: 'GROUP' | 'IDENTITY_STORE', resourceId: string, message: string): AwsError =>
  new JsonMembersError('ResourceNotFoundException', message, 400, {
    ResourceType: resourceType,
    ResourceId: resourceId,
    RequestId: '',
  })

/** Creates the Identity Store handler over the SSO Admin state's groups. */
export function createIdentityStoreService(sso: SsoAdminState): {handler: AwsServiceHandler} {
  const operations: JsonOperations = {
    GetGroupId(req) {
      const identityStoreId = identityStoreIdOf(req)
      const alternate = alternateIdentifierOf(req)
      const visible = sso.identityStoreVisibleTo(identityStoreId, req.accountId)
      if (visible === undefined) throw notFound('IDENTITY_STORE', identityStoreId, 'IDENTITY_STORE not found.')
      if (!visible)
        throw new AwsError('AccessDeniedException', 'User is not authorized to perform this operation.', 400)
      // Seeded groups carry no external ids, so an ExternalId never matches.
      const group =
        'displayName' in alternate
          ? sso.groups(identityStoreId).find((g) => g.DisplayName === alternate.displayName)
          : undefined
      if (!group) throw notFound('GROUP', '', 'GROUP not found.')
      return {GroupId: group.GroupId, IdentityStoreId: identityStoreId}
    },
  }
  const handler = jsonServiceHandler('identitystore', operations)
  return {handler}
}
