import {badRequest, noHandler, ok, rfc3339, unsupportedOperation, unsupportedPath, VaultError} from './responses.js'
import {failingRoute, type Route, type RouteContext, type RouteInput} from './route.js'
import type {AuthMount, NamespaceState, VaultState} from './state.js'
import type {TokenRecord, TokenStore} from './tokens.js'
import {authBlock, loginAnswer} from './auth-block.js'
import {awsLogin} from './aws-login.js'
import {jwtLogin} from './jwt-login.js'

const DURATION_UNITS: Record<string, number> = {ms: 0.001, s: 1, m: 60, h: 3600}

/** Seconds from a number or a Go duration string (`3600`, `90s`, `1h30m`), as Vault's TypeDurationSecond. */
export function durationSeconds(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined
  if (typeof raw === 'number') return raw
  const text = String(raw).trim()
  if (/^\d+$/.test(text)) return Number(text)
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw badRequest(`invalid duration ${text}`)
  return Math.floor(parts.reduce((sum, p) => sum + Number(p[1]) * (DURATION_UNITS[p[2] ?? 's'] ?? 1), 0))
}

function lookupSelf(tokens: TokenStore, token: TokenRecord): Record<string, unknown> {
  return {
    accessor: token.accessor,
    creation_time: Math.floor(token.issuedAt / 1000),
    creation_ttl: token.creationTtl,
    display_name: token.displayName,
    entity_id: '',
    expire_time: token.expiresAt === null ? null : rfc3339(token.expiresAt),
    explicit_max_ttl: token.explicitMaxTtl,
    id: token.id,
    issue_time: rfc3339(token.issuedAt),
    meta: token.meta,
    num_uses: 0,
    orphan: true,
    path: token.path,
    policies: token.policyNames,
    renewable: token.renewable,
    ttl: tokens.remainingTtl(token),
    type: 'service',
    ...(token.namespace === '' ? {} : {namespace_path: token.namespace}),
  }
}

function tokenRoute(tokens: TokenStore, sub: string, input: RouteInput, path: string): Route {
  const write = input.method === 'POST' || input.method === 'PUT'
  if (sub === 'lookup-self' && !input.list) {
    return {
      operation: 'lookup-self',
      // Vault's `default` policy grants every token its own lookup and renewal.
      access: {kind: 'token'},
      handle: (ctx) => {
        if (input.method !== 'GET' && !write) throw unsupportedOperation()
        return ok({data: lookupSelf(tokens, ctx.token as TokenRecord), mountType: 'token'})
      },
    }
  }
  if (sub === 'renew-self' && !input.list) {
    return {
      operation: 'renew-self',
      access: {kind: 'token'},
      handle: (ctx) => {
        if (!write) throw unsupportedOperation()
        const token = ctx.token as TokenRecord
        const {ttl, warnings} = tokens.renew(token, durationSeconds(ctx.body.increment))
        return ok({auth: authBlock(token, ttl), warnings, mountType: 'token'})
      },
    }
  }
  return failingRoute(path, input, unsupportedPath)
}

const stringField = (body: Record<string, unknown>, name: string): string =>
  typeof body[name] === 'string' ? (body[name] as string).trim() : ''

function approleLogin(tokens: TokenStore, mount: Extract<AuthMount, {type: 'approle'}>, ctx: RouteContext) {
  const roleId = stringField(ctx.body, 'role_id')
  if (roleId === '') throw badRequest('missing role_id')
  const role = [...mount.roles.values()].find((r) => r.roleId === roleId)
  if (!role) throw badRequest('invalid role or secret ID')
  const secretId = stringField(ctx.body, 'secret_id')
  if (secretId === '') throw badRequest('missing secret_id')
  if (!role.secretIds.has(secretId)) throw badRequest('invalid role or secret ID')
  return loginAnswer(
    tokens,
    {namespace: ctx.namespace.path, mountPath: mount.path, mountType: 'approle', role},
    {displayName: 'approle', meta: {role_name: role.name}},
  )
}

/** Service-account facts from the JWT's claims (legacy secret-based and projected tokens), without verifying it. */
function serviceAccountOf(jwt: string): {name: string; namespace: string; uid: string; secretName: string} {
  let claims: Record<string, unknown> = {}
  try {
    claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
  } catch {
    // an opaque test JWT: the role's exact string is what authenticates it
  }
  const projected = claims['kubernetes.io'] as
    {namespace?: string; serviceaccount?: {name?: string; uid?: string}} | undefined
  const claim = (name: string): string => (typeof claims[name] === 'string' ? (claims[name] as string) : '')
  return {
    name: projected?.serviceaccount?.name ?? claim('kubernetes.io/serviceaccount/service-account.name'),
    namespace: projected?.namespace ?? claim('kubernetes.io/serviceaccount/namespace'),
    uid: projected?.serviceaccount?.uid ?? claim('kubernetes.io/serviceaccount/service-account.uid'),
    secretName: claim('kubernetes.io/serviceaccount/secret.name'),
  }
}

function kubernetesLogin(tokens: TokenStore, mount: Extract<AuthMount, {type: 'kubernetes'}>, ctx: RouteContext) {
  const roleName = stringField(ctx.body, 'role')
  if (roleName === '') throw badRequest('missing role')
  const jwt = stringField(ctx.body, 'jwt')
  if (jwt === '') throw badRequest('missing jwt')
  const role = mount.roles.get(roleName)
  if (!role) throw badRequest(`invalid role name ${JSON.stringify(roleName)}`)
  // Real Vault asks the Kubernetes TokenReview API; here the role's configured JWT is the only valid one.
  if (jwt !== role.serviceAccountJwt) throw new VaultError(403, ['permission denied'])
  const sa = serviceAccountOf(jwt)
  return loginAnswer(
    tokens,
    {namespace: ctx.namespace.path, mountPath: mount.path, mountType: 'kubernetes', role},
    {
      displayName: `kubernetes-${sa.namespace}-${sa.name}`,
      meta: {
        role: roleName,
        service_account_name: sa.name,
        service_account_namespace: sa.namespace,
        service_account_secret_name: sa.secretName,
        service_account_uid: sa.uid,
      },
    },
  )
}

/** Routes `auth/<mount>/...` (`rest` is the part after `auth/`) to the token, AppRole, Kubernetes, JWT or AWS method. */
export function authRoute(
  state: VaultState,
  tokens: TokenStore,
  ns: NamespaceState,
  rest: string,
  input: RouteInput,
): Route {
  const path = `auth/${rest}`
  const mount = state.matchAuthMount(ns, rest)
  if (!mount) return failingRoute(path, input, () => noHandler(path))
  const sub = rest.slice(mount.path.length)
  if (mount.type === 'token') return tokenRoute(tokens, sub, input, path)
  if (sub !== 'login' || input.list) return failingRoute(path, input, unsupportedPath)
  return {
    operation: `login-${mount.type}`,
    access: {kind: 'none'},
    handle: (ctx) => {
      if (input.method !== 'POST' && input.method !== 'PUT') throw unsupportedOperation()
      switch (mount.type) {
        case 'approle':
          return approleLogin(tokens, mount, ctx)
        case 'kubernetes':
          return kubernetesLogin(tokens, mount, ctx)
        case 'jwt':
          return jwtLogin(tokens, mount, ctx, state.now())
        case 'aws':
          return awsLogin(tokens, mount, ctx)
      }
    },
  }
}
