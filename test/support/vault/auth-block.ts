import type {TokenRecord} from './tokens.js'

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
