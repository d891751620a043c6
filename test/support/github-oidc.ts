import {generateKeyPairSync, randomUUID, sign, type KeyObject} from 'node:crypto'
import {listen} from './http-server.js'

/** An RSA key pair that signs test JWTs (RS256), and its public key as PEM for the test Vault's jwt_validation_pubkeys. */
export function jwtSigningKey(): {privateKey: KeyObject; publicKeyPem: string} {
  const {privateKey, publicKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
  return {privateKey, publicKeyPem: publicKey.export({type: 'spki', format: 'pem'}).toString()}
}

/** A compact RS256 JWS of these claims (iat, nbf, exp an hour from `nowMs` and a fresh jti unless given). */
export function signJwt(privateKey: KeyObject, claims: Record<string, unknown>, nowMs = Date.now()): string {
  const now = Math.floor(nowMs / 1000)
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const body = `${encode({alg: 'RS256', typ: 'JWT', kid: 'test'})}.${encode({
    jti: randomUUID(),
    iat: now,
    nbf: now,
    exp: now + 3600,
    ...claims,
  })}`
  return `${body}.${sign('sha256', Buffer.from(body), privateKey).toString('base64url')}`
}

export interface OidcTokenServer {
  /** ACTIONS_ID_TOKEN_REQUEST_URL (with a query string, as GitHub's has). */
  url: string
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  requestToken: string
  /** The `audience` of every request (null when none was asked for). */
  audiences: Array<string | null>
  close(): Promise<void>
}

/**
 * GitHub Actions' OIDC token endpoint as a job sees it: GET ACTIONS_ID_TOKEN_REQUEST_URL[&audience=...] with
 * `Authorization: bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>` answers `{"count":..,"value":"<jwt>"}`; the token's `aud`
 * is the asked audience, else GitHub's default `https://github.com/<owner>`. A wrong bearer token gets 401.
 */
export async function startOidcTokenServer(options: {
  privateKey: KeyObject
  issuer: string
  owner: string
  claims?: Record<string, unknown>
}): Promise<OidcTokenServer> {
  const requestToken = `ghs_${randomUUID().replaceAll('-', '')}`
  const audiences: Array<string | null> = []
  const running = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://oidc.invalid')
    const [scheme, token] = (req.headers.authorization ?? '').split(' ')
    if (url.pathname !== '/idtoken' || scheme?.toLowerCase() !== 'bearer' || token !== requestToken) {
      res.writeHead(401, {'content-type': 'application/json'}).end('{"message":"Bad credentials"}')
      return
    }
    const audience = url.searchParams.get('audience')
    audiences.push(audience)
    const value = signJwt(options.privateKey, {
      iss: options.issuer,
      aud: audience ?? `https://github.com/${options.owner}`,
      sub: `repo:${options.owner}/infra:ref:refs/heads/main`,
      repository: `${options.owner}/infra`,
      ref: 'refs/heads/main',
      ...options.claims,
    })
    res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({count: 1, value}))
  })
  return {
    url: `${running.url}/idtoken?api-version=2.0`,
    requestToken,
    audiences,
    close: () => running.close(),
  }
}
