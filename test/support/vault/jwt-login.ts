import {verify, type KeyObject} from 'node:crypto'
import {loginAnswer} from './auth-block.js'
import {badRequest, VaultError, type VaultResponse} from './responses.js'
import type {RouteContext} from './route.js'
import type {AuthMount} from './state.js'
import type {TokenStore} from './tokens.js'

type JwtMount = Extract<AuthMount, {type: 'jwt'}>

/** Vault's defaults for a role's clock_skew_leeway and expiration_leeway (seconds). */
const CLOCK_SKEW_LEEWAY = 60
const EXPIRATION_LEEWAY = 150

// The algorithms Vault accepts when jwt_supported_algs is unset, as node:crypto names their digests.
const ALGORITHMS: Record<string, {digest: string; dsaEncoding?: 'ieee-p1363'; pss?: boolean}> = {
  RS256: {digest: 'sha256'},
  RS384: {digest: 'sha384'},
  RS512: {digest: 'sha512'},
  PS256: {digest: 'sha256', pss: true},
  ES256: {digest: 'sha256', dsaEncoding: 'ieee-p1363'},
  ES384: {digest: 'sha384', dsaEncoding: 'ieee-p1363'},
}

const failed = (message: string): VaultError => badRequest(`error validating token: ${message}`)

function decodePart(part: string | undefined): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'))
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {
    // falls through to the error below
  }
  throw failed('malformed token')
}

/** The claims of a JWS signed by one of the keys (compact serialisation), or Vault's error for it. */
function verifiedClaims(jwt: string, keys: KeyObject[]): Record<string, unknown> {
  const parts = jwt.split('.')
  if (parts.length !== 3) throw failed('malformed token: expected three parts')
  const header = decodePart(parts[0])
  const algorithm = typeof header.alg === 'string' ? ALGORITHMS[header.alg] : undefined
  if (!algorithm) throw failed(`unsupported signing algorithm: ${String(header.alg)}`)
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`)
  const signature = Buffer.from(parts[2] ?? '', 'base64url')
  const valid = keys.some((key) => {
    try {
      return verify(
        algorithm.digest,
        signed,
        {
          key,
          ...(algorithm.dsaEncoding ? {dsaEncoding: algorithm.dsaEncoding} : {}),
          ...(algorithm.pss ? {padding: 6 /* RSA_PKCS1_PSS_PADDING */} : {}),
        },
        signature,
      )
    } catch {
      return false
    }
  })
  if (!valid) throw failed('error verifying token signature: no known key successfully validated the token signature')
  return decodePart(parts[1])
}

const audiencesOf = (claims: Record<string, unknown>): string[] =>
  typeof claims.aud === 'string'
    ? [claims.aud]
    : Array.isArray(claims.aud)
      ? claims.aud.filter((a): a is string => typeof a === 'string')
      : []

/**
 * `auth/<jwt mount>/login` as Vault's JWT auth (vault-plugin-auth-jwt) answers it: the role, the signature against
 * `jwt_validation_pubkeys`, then iss/sub/aud/exp/nbf with the role's leeways, then bound claims; the token gets the
 * role's policies. Error texts follow the plugin's (`role "x" could not be found`, `error validating token: ...`).
 */
export function jwtLogin(tokens: TokenStore, mount: JwtMount, ctx: RouteContext, nowMs: number): VaultResponse {
  if (!mount.config) throw badRequest('could not load configuration')
  const roleName = typeof ctx.body.role === 'string' ? ctx.body.role : ''
  if (roleName === '') throw badRequest('missing role')
  const role = mount.roles.get(roleName)
  if (!role) throw badRequest(`role ${JSON.stringify(roleName)} could not be found`)
  const jwt = typeof ctx.body.jwt === 'string' ? ctx.body.jwt : ''
  if (jwt === '') throw badRequest('missing token')

  const claims = verifiedClaims(jwt, mount.config.publicKeys)
  const now = nowMs / 1000
  if (mount.config.boundIssuer !== '' && claims.iss !== mount.config.boundIssuer)
    throw failed('invalid issuer (iss) claim')
  if (role.boundSubject !== '' && claims.sub !== role.boundSubject) throw failed('invalid subject (sub) claim')
  const audiences = audiencesOf(claims)
  if (role.boundAudiences.length > 0 && !audiences.some((aud) => role.boundAudiences.includes(aud)))
    throw failed('invalid audience (aud) claim: audience claim does not match any expected audience')
  if (typeof claims.exp !== 'number') throw failed('no expiration time (exp) claim')
  if (claims.exp + EXPIRATION_LEEWAY + CLOCK_SKEW_LEEWAY < now)
    throw failed('invalid expiration time (exp) claim: token is expired')
  if (typeof claims.nbf === 'number' && claims.nbf - CLOCK_SKEW_LEEWAY > now)
    throw failed('invalid not before (nbf) claim: token not yet valid')
  if (role.boundAudiences.length === 0 && audiences.length > 0)
    throw badRequest('audience claim found in JWT but no audiences bound to the role')
  const user = claims[role.userClaim]
  if (typeof user !== 'string') throw badRequest(`claim ${JSON.stringify(role.userClaim)} not found in token`)
  for (const [claim, values] of Object.entries(role.boundClaims)) {
    const actual = claims[claim]
    if (actual === undefined) throw badRequest(`error validating claims: claim ${JSON.stringify(claim)} is missing`)
    const actualValues = Array.isArray(actual) ? actual.map(String) : [String(actual)]
    if (!actualValues.some((value) => values.includes(value)))
      throw badRequest(
        `error validating claims: claim ${JSON.stringify(claim)} does not match any associated bound claim values`,
      )
  }

  return loginAnswer(
    tokens,
    {namespace: ctx.namespace.path, mountPath: mount.path, mountType: 'jwt', role},
    {displayName: `${mount.path.replace(/\/$/, '')}-${user}`, meta: {role: roleName}},
  )
}
