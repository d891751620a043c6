import type {Policy} from './policy.js'
import {ok, type VaultResponse} from './responses.js'
import type {TokenRecord, TokenStore} from './tokens.js'

/** The `auth` block of login and renew answers (`logical.HTTPAuth`). */
export const authBlock = (token: TokenRecord, leaseDuration: number): Record<string, unknown> => ({
  client_token: token.id,
  accessor: token.accessor,
  policies: token.policyNames,
  token_policies: token.policyNames,
  metadata: token.meta,
  lease_duration: leaseDuration,
  renewable: token.renewable,
  entity_id: '',
  token_type: 'service',
  orphan: true,
  mfa_requirement: null,
  num_uses: 0,
})

/** What a role hands its tokens: its policies and TTLs (every auth method's roles have these). */
interface TokenRole {
  policies: Policy[]
  tokenTtlSeconds?: number
  tokenMaxTtlSeconds?: number
}

/** A successful login at `auth/<mount>/login`: a token issued for the role, answered as Vault answers a login. */
export function loginAnswer(
  tokens: TokenStore,
  login: {namespace: string; mountPath: string; mountType: string; role: TokenRole},
  token: {displayName: string; meta: Record<string, string>},
): VaultResponse {
  const issued = tokens.issue({
    namespace: login.namespace,
    policies: login.role.policies,
    ttlSeconds: login.role.tokenTtlSeconds,
    maxTtlSeconds: login.role.tokenMaxTtlSeconds,
    path: `auth/${login.mountPath}login`,
    ...token,
  })
  return ok({auth: authBlock(issued, tokens.remainingTtl(issued)), mountType: login.mountType})
}
