import {readFile} from 'node:fs/promises'
import type vault from 'node-vault'
import type {VaultConfig} from '../config/schema.js'
import {ConfigError} from '../errors.js'
import type {Redactor} from '../observability/redact.js'
import {CircuitOpenError} from '../resilience/breakers.js'
import {retriesOf} from '../resilience/retry.js'
import type {Guarded} from './vault-guarded.js'
import {describeVaultFailure, VaultError} from './vault-errors.js'

const DEFAULT_JWT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token'

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
}

/**
 * Logs in with the configured method (AppRole, Kubernetes, or a configured token checked with lookup-self) and
 * returns what Vault says about the token. Credentials go to the redactor before they are sent.
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
      `Vault ${auth.method} login at ${config.address} failed: ${cause}`,
      'Check the credentials in vault.auth and that the auth method is enabled at the configured mount.',
    )
    // Login is retried like every Vault call; the report says how often.
    throw Object.assign(failed, {retries: retriesOf(error)})
  }
}
