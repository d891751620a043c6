import type {IncomingHttpHeaders} from 'node:http'
import type {CredentialRegistry, IssuedCredentials} from './types.js'

/** What the SigV4 credential scope says about a request. */
export interface SignedScope {
  accessKeyId: string
  region: string
  /** Signing name from the scope (`s3`, `sts`, `secretsmanager`...). */
  signingName?: string
  sessionToken?: string
}

export type AuthFailure = 'missing' | 'unknown' | 'expired' | 'bad-token'

export type AuthResult = {ok: true; identity: IssuedCredentials; scope: SignedScope} | {ok: false; failure: AuthFailure}

const SCOPE = /^([^/\s,]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request$/

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * Reads the access key and region from the `Authorization` header (`AWS4-HMAC-SHA256 Credential=AKID/date/region/
 * service/aws4_request, ...`) or from a presigned URL's `X-Amz-Credential`. The signature itself is not verified:
 * the test server trusts whoever holds a registered access key id, which is all the tests need to exercise identity.
 */
export function parseSignedScope(headers: IncomingHttpHeaders, query: URLSearchParams): SignedScope | undefined {
  const authorization = header(headers, 'authorization') ?? ''
  const fromHeader = /Credential=([^,\s]+)/.exec(authorization)?.[1]
  const credential = fromHeader ?? query.get('X-Amz-Credential') ?? undefined
  const sessionToken = header(headers, 'x-amz-security-token') ?? query.get('X-Amz-Security-Token') ?? undefined
  if (credential !== undefined) {
    const match = SCOPE.exec(credential)
    if (!match) return undefined
    return {accessKeyId: match[1] ?? '', region: match[2] ?? 'us-east-1', signingName: match[3], sessionToken}
  }
  // Legacy SigV2 (`AWS AKID:signature`): no region in it, so S3's default region applies.
  const v2 = /^AWS ([^:\s]+):/.exec(authorization)
  if (v2?.[1]) return {accessKeyId: v2[1], region: 'us-east-1', sessionToken}
  return undefined
}

/** Resolves the caller: unknown keys, expired sessions and session tokens that do not belong to the key are refused. */
export function authenticate(
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  registry: CredentialRegistry,
  now: number,
): AuthResult {
  const scope = parseSignedScope(headers, query)
  if (!scope) return {ok: false, failure: 'missing'}
  const identity = registry.lookup(scope.accessKeyId)
  if (!identity) return {ok: false, failure: 'unknown'}
  if (identity.sessionToken !== undefined && identity.sessionToken !== scope.sessionToken) {
    return {ok: false, failure: 'bad-token'}
  }
  if (identity.expiresAt !== undefined && identity.expiresAt <= now) return {ok: false, failure: 'expired'}
  return {ok: true, identity, scope}
}
