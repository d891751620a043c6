import {readFile} from 'node:fs/promises'
import type {AwsCredentialIdentityProvider} from '@smithy/types'
import type vault from 'node-vault'
import type {VaultConfig} from '../config/schema.js'
import {ConfigError} from '../errors.js'
import type {Redactor} from '../observability/redact.js'
import {CircuitOpenError} from '../resilience/breakers.js'
import {retriesOf} from '../resilience/retry.js'
import {signedCallerIdentityRequest} from './aws-iam-request.js'
import {requestGithubOidcToken} from './github-oidc.js'
import type {Guarded} from './vault-guarded.js'
import {describeVaultFailure, VaultError} from './vault-errors.js'

const DEFAULT_JWT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token'

const HINTS: Record<VaultConfig['auth']['method'], string> = {
  token: 'Check the token (vault.auth.token or VAULT_TOKEN): it may have expired or been revoked.',
  approle: 'Check the credentials in vault.auth and that the auth method is enabled at the configured mount.',
  kubernetes: "Check vault.auth.role and that the role binds this pod's service account.",
  jwt: "Check vault.auth.role, vault.auth.mount and that the role's bound_audiences/bound_claims match the JWT (its aud: vault.auth.audience).",
  aws: "Check vault.auth.role and that its bound_iam_principal_arn names this workload's IAM role; with a server id header, vault.auth.header_value must match the mount's.",
}

/** What Vault says about a token it issued (a login's `auth`, or lookup-self for a configured token). */
export interface IssuedToken {
  client_token?: string
  lease_duration?: number
  creation_ttl?: number
  renewable?: boolean
}

export interface LogInOptions {
  client: vault.client
  config: VaultConfig
  env: Readonly<Record<string, string | undefined>>
  redactor: Redactor
  guarded: Guarded
  /** For method aws; the SDK's default chain (env, profile, web identity, ECS, IMDS) when not given. */
  awsCredentials?: AwsCredentialIdentityProvider
}

/** The auth mount a method logs in at: `vault.auth.mount`, else the method's default path. */
export const authMountOf = (auth: VaultConfig['auth']): string => auth.mount ?? auth.method

/**
 * The JWT for method jwt, read at every login (Kubernetes projected tokens rotate, GitHub's expire in minutes):
 * `jwt`, the file at `jwt_path`, or GitHub Actions' OIDC token when the job may request one.
 */
async function loginJwt(config: VaultConfig, env: LogInOptions['env']): Promise<string> {
  const auth = config.auth
  if (auth.jwt !== undefined) return auth.jwt
  if (auth.jwt_path !== undefined) return (await readFile(auth.jwt_path, 'utf8')).trim()
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
  if (!url || !requestToken) {
    throw new ConfigError([
      {
        file: 'config',
        path: 'vault.auth',
        message:
          'method jwt needs jwt or jwt_path, or a GitHub Actions job with permissions: id-token: write ' +
          '(ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set)',
      },
    ])
  }
  return requestGithubOidcToken({url, requestToken, audience: auth.audience, timeoutMs: config.timeout})
}

/**
 * Logs in with the configured method (AppRole, Kubernetes, JWT/OIDC, AWS IAM, or a configured token checked with
 * lookup-self) and returns what Vault says about the token. Credentials go to the redactor before they are sent.
 */
export async function logIn(options: LogInOptions): Promise<IssuedToken | undefined> {
  const {client, config, env, redactor, guarded} = options
  const auth = config.auth
  try {
    if (auth.method === 'approle') {
      if (!auth.role_id || !auth.secret_id) {
        throw new ConfigError([
          {file: 'config', path: 'vault.auth', message: 'role_id and secret_id must not be empty for approle'},
        ])
      }
      redactor.add(auth.secret_id)
      const request = {
        role_id: auth.role_id,
        secret_id: auth.secret_id,
        ...(auth.mount ? {mount_point: auth.mount} : {}),
      }
      const response = await guarded('login', `auth/${auth.mount ?? 'approle'}/login`, () =>
        client.approleLogin(request),
      )
      return response.auth as IssuedToken | undefined
    } else if (auth.method === 'kubernetes') {
      const jwt = (await readFile(auth.jwt_path ?? DEFAULT_JWT_PATH, 'utf8')).trim()
      redactor.add(jwt)
      // node-vault 0.12 leaves {{kubernetesPath}} unfilled in its login path, so the mount is always passed.
      const mount = auth.mount ?? 'kubernetes'
      const response = await guarded('login', `auth/${mount}/login`, () =>
        client.kubernetesLogin({role: auth.role, jwt, mount_point: mount}),
      )
      return response.auth as IssuedToken | undefined
    } else if (auth.method === 'jwt') {
      if (env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) redactor.add(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)
      const jwt = await loginJwt(config, env)
      redactor.add(jwt)
      const mount = authMountOf(auth)
      const response = await guarded('login', `auth/${mount}/login`, () =>
        client.jwtLogin({role: auth.role ?? '', jwt, mount_point: mount}),
      )
      return response.auth as IssuedToken | undefined
    } else if (auth.method === 'aws') {
      const credentials =
        options.awsCredentials ?? (await import('@aws-sdk/credential-providers')).fromNodeProviderChain()
      // Signed afresh at every login: the signature is valid for 15 minutes, and credentials rotate.
      const body = await signedCallerIdentityRequest({credentials, region: auth.region, headerValue: auth.header_value})
      const mount = authMountOf(auth)
      const response = await guarded('login', `auth/${mount}/login`, () =>
        client.awsIamLogin({role: auth.role ?? '', ...body, mount_point: mount}),
      )
      return response.auth as IssuedToken | undefined
    } else {
      const value = auth.token || env.VAULT_TOKEN
      if (!value) {
        throw new ConfigError([
          {file: 'config', path: 'vault.auth.token', message: 'no Vault token: set vault.auth.token or VAULT_TOKEN'},
        ])
      }
      redactor.add(value)
      client.token = value
      const response = await guarded('login', 'auth/token/lookup-self', () => client.tokenLookupSelf())
      const data = response.data as {ttl?: number; creation_ttl?: number; renewable?: boolean} | undefined
      return {lease_duration: data?.ttl, creation_ttl: data?.creation_ttl, renewable: data?.renewable}
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error
    const cause = error instanceof CircuitOpenError ? error.message : describeVaultFailure(error).message
    const failed = new VaultError(
      'VAULT_AUTH_FAILED',
      `Vault ${auth.method} login${auth.method === 'token' ? '' : ` at auth/${authMountOf(auth)}`} (${config.address}) failed: ${cause}`,
      HINTS[auth.method],
    )
    // Login is retried like every Vault call; the report says how often.
    throw Object.assign(failed, {retries: retriesOf(error)})
  }
}
