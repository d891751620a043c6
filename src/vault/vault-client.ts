import {readFile} from 'node:fs/promises'
import {Agent as HttpAgent} from 'node:http'
import {Agent as HttpsAgent} from 'node:https'
import vault from 'node-vault'
import type {VaultConfig} from '../config/schema.js'
import {ConfigError} from '../errors.js'
import type {Logger} from '../observability/logger.js'
import type {Metrics} from '../observability/metrics.js'
import {CircuitOpenError, statusOf as breakerStatusOf, type Breakers} from '../resilience/breakers.js'
import type {Redactor} from '../observability/redact.js'
import {retriesOf, withRetry, type RetryPolicy} from '../resilience/retry.js'
import {isJsonObject, parseJson, type JsonObject} from '../util/exact-json.js'
import {describeVaultFailure, isRetryableVaultError, VaultError} from './vault-errors.js'
import {createVaultTransport, type VaultTransport} from './vault-transport.js'

export type ListResult = {kind: 'ok'; keys: string[]} | {kind: 'missing'} | {kind: 'forbidden'}
export type ReadResult =
  | {kind: 'ok'; data: JsonObject; version: number}
  | {kind: 'deleted'}
  | {kind: 'missing'}
  | {kind: 'forbidden'}

/** The Vault operations the merge phase needs; the walker depends on this, not on node-vault. */
export interface VaultReader {
  /** Splits a path into its KV mount and the path below it, the way the `vault` CLI does. */
  resolveMount(path: string): Promise<{mount: string; relative: string}>
  list(mount: string, folder: string): Promise<ListResult>
  read(mount: string, key: string): Promise<ReadResult>
}

export interface VaultClientOptions {
  config: VaultConfig
  logger: Logger
  redactor: Redactor
  retry: RetryPolicy
  breakers: Breakers
  metrics?: Metrics
  env?: Readonly<Record<string, string | undefined>>
  now?: () => number
}

const DEFAULT_JWT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token'

// Each path segment is encoded so keys with spaces, '?' or '#' reach Vault as one path.
const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/')

interface TokenState {
  /** When the token stops working; undefined for one that never expires (a root token). */
  expiresAt?: number
  /** The TTL it was issued with: what a renewal asks for, and what "renew when a third is left" measures. */
  ttlMs?: number
  renewable: boolean
  /** A renewal gave less than it asked: the max TTL is near, and only a new login gives more time. */
  atMaxTtl: boolean
  /** Counts logins, so requests that failed on an old token retry without logging in again. */
  generation: number
}

/** Vault's error strings from a failed call (node-vault keeps only the first in its message). */
const vaultErrorsOf = (error: unknown): string[] => {
  const errors = (error as {response?: {body?: {errors?: unknown}}})?.response?.body?.errors
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : []
}

// Vault 1.16+ names an unknown, expired or revoked token in the 403 body; older servers say only "permission denied".
const saysInvalidToken = (error: unknown): boolean => vaultErrorsOf(error).some((text) => /invalid token|token is expired|bad token/i.test(text))

/**
 * A logged-in Vault client on node-vault. Lists with `GET ?list=true` (Node servers cannot receive the
 * LIST verb, and real Vault accepts both), renews its token before it expires (logging in again for
 * AppRole/Kubernetes when renewal is impossible), and retries throttling, 5xx and network failures.
 */
export async function connectVault(options: VaultClientOptions): Promise<VaultReader> {
  const {config, logger, redactor} = options
  const env = options.env ?? process.env
  const now = options.now ?? Date.now
  const ca = config.ca_cert ? await readCa(config.ca_cert) : undefined
  // Keep-alive agents sized to the concurrency: a walk makes thousands of requests, and a new TCP (and
  // TLS) connection per request would cost more than the requests themselves.
  const agentOptions = {keepAlive: true, maxSockets: config.concurrency}
  const transport = createVaultTransport()
  const client = vault({
    'request-promise': transport.requestPromise,
    endpoint: config.address,
    namespace: config.namespace || undefined,
    noCustomHTTPVerbs: true,
    kubernetesPath: config.auth.method === 'kubernetes' ? (config.auth.mount ?? 'kubernetes') : undefined,
    requestOptions: {
      timeout: config.timeout,
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent({...agentOptions, ...(ca ? {ca} : {})}),
    },
  } as vault.VaultOptions)

  const token: TokenState = {renewable: false, atMaxTtl: false, generation: 0}
  /** A fresh token: from a login, or the configured token as lookup-self describes it. */
  const applyAuth = (auth: {client_token?: string; lease_duration?: number; creation_ttl?: number; renewable?: boolean} | undefined): void => {
    if (auth?.client_token) redactor.add(auth.client_token)
    const left = (auth?.lease_duration ?? 0) * 1000
    const issued = Math.max(left, (auth?.creation_ttl ?? 0) * 1000)
    token.ttlMs = left > 0 ? issued : undefined
    token.expiresAt = left > 0 ? now() + left : undefined
    token.renewable = auth?.renewable === true
    token.atMaxTtl = false
    token.generation++
  }
  const canLogInAgain = config.auth.method !== 'token'

  const login = async (): Promise<void> => {
    const auth = config.auth
    try {
      if (auth.method === 'approle') {
        if (!auth.role_id || !auth.secret_id) {
          throw new ConfigError([{file: 'config', path: 'vault.auth', message: 'role_id and secret_id must not be empty for approle'}])
        }
        redactor.add(auth.secret_id)
        const request = {role_id: auth.role_id, secret_id: auth.secret_id, ...(auth.mount ? {mount_point: auth.mount} : {})}
        const response = await guarded('login', `auth/${auth.mount ?? 'approle'}/login`, () => client.approleLogin(request))
        applyAuth(response.auth)
      } else if (auth.method === 'kubernetes') {
        const jwt = (await readFile(auth.jwt_path ?? DEFAULT_JWT_PATH, 'utf8')).trim()
        redactor.add(jwt)
        // node-vault 0.12 leaves {{kubernetesPath}} unfilled in its login path, so the mount is always passed.
        const mount = auth.mount ?? 'kubernetes'
        const response = await guarded('login', `auth/${mount}/login`, () => client.kubernetesLogin({role: auth.role, jwt, mount_point: mount}))
        applyAuth(response.auth)
      } else {
        const value = auth.token || env.VAULT_TOKEN
        if (!value) {
          throw new ConfigError([{file: 'config', path: 'vault.auth.token', message: 'no Vault token: set vault.auth.token or VAULT_TOKEN'}])
        }
        redactor.add(value)
        client.token = value
        const response = await guarded('login', 'auth/token/lookup-self', () => client.tokenLookupSelf())
        const data = response.data as {ttl?: number; creation_ttl?: number; renewable?: boolean} | undefined
        applyAuth({lease_duration: data?.ttl, creation_ttl: data?.creation_ttl, renewable: data?.renewable})
      }
    } catch (error) {
      if (error instanceof ConfigError) throw error
      const cause = error instanceof CircuitOpenError ? error.message : describeVaultFailure(error).message
      const failed = new VaultError('VAULT_AUTH_FAILED', `Vault ${auth.method} login at ${config.address} failed: ${cause}`, 'Check the credentials in vault.auth and that the auth method is enabled at the configured mount.')
      // Login is retried like every Vault call; the report says how often.
      throw Object.assign(failed, {retries: retriesOf(error)})
    }
    logger.debug('vault login succeeded', {method: auth.method, ttl_seconds: token.ttlMs === undefined ? null : token.ttlMs / 1000})
  }

  // One renewal or login at a time: concurrent requests wait for the same promise.
  let refreshing: Promise<void> | undefined
  const refresh = (work: () => Promise<void>): Promise<void> => {
    refreshing ??= work().finally(() => {
      refreshing = undefined
    })
    return refreshing
  }

  /**
   * Renews the token once a third of its TTL is left. A renewal that gives less than it asked has hit the
   * max TTL: AppRole/Kubernetes log in again (at once, and whenever that happens again), a configured
   * token cannot and runs until it expires — then its requests fail the source, they are never skips.
   */
  const ensureFreshToken = async (): Promise<void> => {
    if (token.expiresAt === undefined || token.ttlMs === undefined) return
    if (now() < token.expiresAt - token.ttlMs / 3) return
    if (token.atMaxTtl && !canLogInAgain) return
    await refresh(async () => {
      if (token.renewable && !token.atMaxTtl) {
        const asked = Math.round((token.ttlMs ?? 0) / 1000)
        try {
          const response = await guarded('renew-self', 'auth/token/renew-self', () => client.tokenRenewSelf({increment: asked}))
          const granted = (response.auth as {lease_duration?: number} | undefined)?.lease_duration ?? 0
          if (granted > 0) token.expiresAt = now() + granted * 1000
          if (granted >= asked) {
            logger.debug('vault token renewed', {ttl_seconds: granted})
            return
          }
          token.atMaxTtl = true
          logger.info('vault token reached its max TTL', {ttl_seconds: granted, asked_seconds: asked, logs_in_again: canLogInAgain})
          // Still more than a third of a TTL left: the next check logs in again, no renewal is tried before.
          if (granted * 1000 > (token.ttlMs ?? 0) / 3) return
        } catch (error) {
          token.atMaxTtl = true
          logger.warn('vault token renewal failed', {cause: describeVaultFailure(error).message, logs_in_again: canLogInAgain})
        }
      } else {
        token.atMaxTtl = true
      }
      if (canLogInAgain) await login()
    })
  }

  // Whether a 403 came from a token that no longer works rather than from a policy. Without Vault's
  // "invalid token" text, `lookup-self` (which every live token may call) decides: a 403 there too means
  // the token is gone. A probe answers only for 403s received before it started; tokens never come back.
  let probes = 0
  let probe: {seq: number; settled: boolean; invalid: Promise<boolean>} | undefined
  const tokenIsInvalid = async (error: unknown): Promise<boolean> => {
    if (saysInvalidToken(error)) return true
    const received = ++probes
    for (;;) {
      if (probe && probe.seq > received) return probe.invalid
      if (probe && !probe.settled) {
        await probe.invalid.catch(() => undefined)
        continue
      }
      const current = {
        seq: ++probes,
        settled: false,
        invalid: guarded('lookup-self', 'auth/token/lookup-self', () => client.tokenLookupSelf()).then(
          () => false,
          (lookupError: unknown) => {
            if (describeVaultFailure(lookupError).status === 403) return true
            throw lookupError
          },
        ),
      }
      void current.invalid.finally(() => (current.settled = true)).catch(() => undefined)
      probe = current
      return current.invalid
    }
  }

  const tokenLost = (operation: string, path: string): VaultError =>
    Object.assign(
      new VaultError(
        'VAULT_TOKEN_INVALID',
        canLogInAgain
          ? `the Vault token stopped working (expired or revoked) and a new ${config.auth.method} login did not help`
          : 'the Vault token expired or was revoked, and vault.auth.method token cannot log in again; nothing from this source is synced',
        canLogInAgain ? 'Check the auth role: its token must be able to list and read the sources.' : 'Use a token whose TTL (and max TTL) outlasts the run, or an auth method that can log in again (approle, kubernetes).',
      ),
      {operation, path},
    )

  /**
   * One request with a working token: renewed or replaced before expiry, and, when a 403 turns out to come
   * from a token that stopped working, one new login and one retry. A 403 that remains is a real denial.
   */
  const call = async <T>(operation: string, path: string, fn: () => Promise<T>): Promise<T> => {
    await ensureFreshToken()
    const generation = token.generation
    try {
      return await guarded(operation, path, fn)
    } catch (error) {
      if (describeVaultFailure(error).status !== 403) throw error
      // A request sent with an older token just retries: another one has logged in again meanwhile.
      if (token.generation === generation) {
        const invalid = await tokenIsInvalid(error)
        if (!invalid && token.generation === generation) throw error
        if (invalid && !canLogInAgain) throw tokenLost(operation, path)
        if (invalid && token.generation === generation) {
          logger.info('vault token stopped working; logging in again', {operation})
          await refresh(login)
        }
      }
    }
    try {
      return await guarded(operation, path, fn)
    } catch (error) {
      if (describeVaultFailure(error).status === 403 && (await tokenIsInvalid(error))) throw tokenLost(operation, path)
      throw error
    }
  }

  /** One Vault operation (login included) through the vault breaker, retried under the run's one policy. */
  const guarded = async <T>(operation: string, path: string, fn: () => Promise<T>): Promise<T> => {
    const started = now()
    const attempt = async (): Promise<T> => {
      const begun = now()
      try {
        const value = await fn()
        options.metrics?.observeVault(operation, 200, (now() - begun) / 1000)
        return value
      } catch (error) {
        options.metrics?.observeVault(operation, breakerStatusOf(error), (now() - begun) / 1000)
        throw error
      }
    }
    try {
      // The breaker wraps the whole retried call, and retries stop once other calls have opened it.
      const {value} = await options.breakers.fire('vault', operation, () =>
        withRetry(attempt, options.retry, (error) => isRetryableVaultError(error) && options.breakers.state('vault') !== 'open', {
          onRetry: (error, attemptNumber, delayMs) =>
            logger.debug('vault request retried', {operation, path, attempt: attemptNumber, delay_ms: delayMs, cause: describeVaultFailure(error).message}),
        }),
      )
      return value
    } catch (error) {
      Object.assign(error as object, {durationMs: now() - started, operation, path})
      throw error
    }
  }

  await login()

  const statusOf = (error: unknown): number | undefined => describeVaultFailure(error).status

  return {
    async resolveMount(path) {
      const clean = path.replace(/^\/+/, '')
      try {
        const response = await call('mounts', clean, () => client.read(`sys/internal/ui/mounts/${encodePath(clean)}`))
        const data = response.data as {path?: string; type?: string; options?: {version?: string} | null}
        const mount = (data.path ?? '').replace(/^\/+/, '')
        if (data.type !== 'kv' || data.options?.version !== '2') {
          throw new VaultError('VAULT_MOUNT_UNSUPPORTED', `${mount || clean} is not a KV version 2 mount (type ${data.type ?? 'unknown'}, version ${data.options?.version ?? 'unknown'})`, 'secretsync reads KV v2 mounts only.')
        }
        return {mount, relative: clean.startsWith(mount) ? clean.slice(mount.length) : ''}
      } catch (error) {
        if (error instanceof VaultError) throw error
        // The vault CLI falls back to the first path segment when the token may not read the mount table.
        if (statusOf(error) === 403 || statusOf(error) === 404) {
          const [first = '', ...rest] = clean.split('/')
          logger.debug('mount lookup denied; assuming the first path segment is the mount', {path: clean})
          return {mount: `${first}/`, relative: rest.join('/')}
        }
        throw error
      }
    },

    async list(mount, folder) {
      try {
        // `GET ?list=true` is Vault's documented alternative to the LIST verb (node-vault's own fallback sends list=1).
        const response = await call('list', `${mount}${folder}`, () => client.read(`${`${mount}metadata/${encodePath(folder)}`.replace(/\/$/, '')}?list=true`))
        const keys = (response.data as {keys?: unknown} | undefined)?.keys
        return {kind: 'ok', keys: Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : []}
      } catch (error) {
        const status = statusOf(error)
        if (status === 404) return {kind: 'missing'}
        if (status === 403) return {kind: 'forbidden'}
        throw error
      }
    },

    async read(mount, key) {
      try {
        const response = await call('read', `${mount}${key}`, () => client.read(`${mount}data/${encodePath(key)}`))
        const body = response.data as {data?: Record<string, unknown> | null; metadata?: {version?: number; deletion_time?: string; destroyed?: boolean}} | undefined
        if (!body?.data || body.metadata?.destroyed || (body.metadata?.deletion_time ?? '') !== '') return {kind: 'deleted'}
        const data = exactData(transport, response, `${mount}${key}`)
        redactor.add(data)
        return {kind: 'ok', data, version: body.metadata?.version ?? 0}
      } catch (error) {
        const status = statusOf(error)
        // KV v2 answers a deleted or destroyed latest version with 404 and its metadata.
        if (status === 404) {
          const body = (error as {response?: {body?: {data?: {metadata?: {deletion_time?: string; destroyed?: boolean}}}}}).response?.body
          const metadata = body?.data?.metadata
          return metadata && (metadata.destroyed || metadata.deletion_time) ? {kind: 'deleted'} : {kind: 'missing'}
        }
        if (status === 403) return {kind: 'forbidden'}
        throw error
      }
    },
  }
}

/**
 * The secret's `data` re-read losslessly from the response text (numbers keep their digits, every key is kept).
 * A body that cannot be read exactly fails that secret, naming it; it is never passed on altered.
 */
function exactData(transport: VaultTransport, response: unknown, path: string): JsonObject {
  const text = transport.textOf(response)
  let exact: unknown
  try {
    exact = text === undefined ? undefined : parseJson(text)
  } catch (error) {
    throw new VaultError('VAULT_REQUEST_FAILED', `read ${path}: the secret's data cannot be read exactly: ${(error as Error).message}`)
  }
  const data = isJsonObject(exact) && isJsonObject(exact.data) ? exact.data.data : undefined
  if (!isJsonObject(data)) throw new VaultError('VAULT_REQUEST_FAILED', `read ${path}: the response text of the secret is not available to read its data exactly`)
  return data
}

async function readCa(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    throw new ConfigError([{file, path: 'vault.ca_cert', message: `cannot read CA certificate: ${(error as Error).message}`}])
  }
}
