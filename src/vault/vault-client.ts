import {Agent as HttpAgent} from 'node:http'
import {Agent as HttpsAgent} from 'node:https'
import vault from 'node-vault'
import type {VaultConfig} from '../config/schema.js'
import type {Logger} from '../observability/logger.js'
import type {Metrics} from '../observability/metrics.js'
import type {Breakers} from '../resilience/breakers.js'
import type {Redactor} from '../observability/redact.js'
import type {RetryPolicy} from '../resilience/retry.js'
import {exactParsed, isJsonObject, parseJson, type JsonObject} from '../util/exact-json.js'
import {describeVaultFailure, VaultError} from './vault-errors.js'
import {parseRetryAfter} from '../resilience/throttled-call.js'
import {createGuarded, type VaultQuota} from './vault-guarded.js'
import {logIn} from './vault-login.js'
import {createVaultSession} from './vault-session.js'
import {readVaultCa} from './vault-tls.js'
import {createVaultTransport, type TransportResponse} from './vault-transport.js'

export type ListResult = {kind: 'ok'; keys: string[]} | {kind: 'missing'} | {kind: 'forbidden'}
export type ReadResult =
  {kind: 'ok'; data: JsonObject; version: number} | {kind: 'deleted'} | {kind: 'missing'} | {kind: 'forbidden'}

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
  /** Vault's rate-limit quota: the adaptive rate (everything but how to read Retry-After, which the transport knows). */
  quota?: Omit<VaultQuota, 'retryAfterMs'>
  /** $VAULT_TOKEN for the token method without a configured token; from the composition root. */
  env: Readonly<Record<string, string | undefined>>
  now?: () => number
}

/** A Vault answer: its parsed body and the text it was parsed from. */
interface Answer {
  body: Record<string, unknown>
  text: string
}

/** The vault CLI's rule: VAULT_NAMESPACE is the default, the setting (even "") wins; "" is the root namespace. */
export const vaultNamespace = (config: VaultConfig, env: Readonly<Record<string, string | undefined>>): string =>
  config.namespace ?? env.VAULT_NAMESPACE ?? ''

// Each path segment is encoded so keys with spaces, '?' or '#' reach Vault as one path. Most paths have nothing
// to encode and are used as they are.
const UNRESERVED_PATH = /^[A-Za-z0-9\-_.!~*'()/]*$/
const encodePath = (path: string): string =>
  UNRESERVED_PATH.test(path) ? path : path.split('/').map(encodeURIComponent).join('/')

/**
 * A logged-in Vault client on node-vault. Lists with `GET ?list=true` (Node servers cannot receive the
 * LIST verb, and real Vault accepts both), renews its token before it expires (logging in again for
 * AppRole/Kubernetes when renewal is impossible), and retries throttling, 5xx and network failures.
 */
export async function connectVault(options: VaultClientOptions): Promise<VaultReader> {
  const {config, logger, redactor} = options
  const {env} = options
  const now = options.now ?? Date.now
  const ca = await readVaultCa(config, env)
  // Keep-alive agents sized to the concurrency: a walk makes thousands of requests, and a new TCP (and
  // TLS) connection per request would cost more than the requests themselves.
  const agentOptions = {keepAlive: true, maxSockets: config.concurrency}
  const transport = createVaultTransport()
  const requestOptions = {
    timeout: config.timeout,
    httpAgent: new HttpAgent(agentOptions),
    // Explicit, so NODE_TLS_REJECT_UNAUTHORIZED=0 cannot turn certificate checks off behind the user's back.
    httpsAgent: new HttpsAgent({...agentOptions, rejectUnauthorized: true, ...(ca ? {ca} : {})}),
  }
  const client = vault({
    'request-promise': transport.requestPromise,
    endpoint: config.address,
    noCustomHTTPVerbs: true,
    kubernetesPath: config.auth.method === 'kubernetes' ? (config.auth.mount ?? 'kubernetes') : undefined,
    requestOptions,
  } as vault.VaultOptions)
  // Set after construction: node-vault falls back to process.env.VAULT_NAMESPACE and VAULT_TOKEN itself. The token
  // comes from logIn only (so a login request never carries a stray $VAULT_TOKEN).
  ;(client as vault.client & {namespace?: string}).namespace = vaultNamespace(config, env)
  client.token = ''
  // What node-vault's `client.read(path)` does, minus its per-request pipeline (see VaultTransport.get), with the
  // response text (what a secret's data is read from exactly). A 200 is node-vault's body as is, and the response
  // itself is the answer (no further promise or object per request); anything else goes through node-vault's
  // handling (errors, sys/health).
  const answered = (response: TransportResponse): Answer | Promise<Answer> =>
    response.statusCode === 200
      ? (response as Answer)
      : client
          .handleVaultResponse(response)
          .then((body: unknown) => ({body: body as Record<string, unknown>, text: response.text}))
  const read = (path: string): Promise<Answer> => transport.get(client, path, requestOptions).then(answered)

  const guarded = createGuarded({
    breakers: options.breakers,
    retry: options.retry,
    metrics: options.metrics,
    logger,
    now,
    quota: options.quota && {
      ...options.quota,
      retryAfterMs: (error) =>
        parseRetryAfter(transport.retryAfterOf((error as {response?: {body?: unknown}}).response?.body), now()),
    },
  })
  const {login, call} = createVaultSession({
    config,
    logger,
    redactor,
    now,
    guarded,
    client,
    logIn: () => logIn({client, config, env, redactor, guarded}),
  })
  await login()

  const statusOf = (error: unknown): number | undefined => describeVaultFailure(error).status

  return {
    async resolveMount(path) {
      const clean = path.replace(/^\/+/, '')
      try {
        const {body: response} = await call('mounts', clean, () => read(`sys/internal/ui/mounts/${encodePath(clean)}`))
        const data = response.data as {path?: string; type?: string; options?: {version?: string} | null}
        const mount = (data.path ?? '').replace(/^\/+/, '')
        if (data.type !== 'kv' || data.options?.version !== '2') {
          throw new VaultError(
            'VAULT_MOUNT_UNSUPPORTED',
            `${mount || clean} is not a KV version 2 mount (type ${data.type ?? 'unknown'}, version ${data.options?.version ?? 'unknown'})`,
            'secretsync reads KV v2 mounts only.',
          )
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
        const {body: response} = await call('list', `${mount}${folder}`, () =>
          read(`${`${mount}metadata/${encodePath(folder)}`.replace(/\/$/, '')}?list=true`),
        )
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
        const {body: response, text} = await call('read', `${mount}${key}`, () =>
          read(`${mount}data/${encodePath(key)}`),
        )
        const body = response.data as
          | {
              data?: Record<string, unknown> | null
              metadata?: {version?: number; deletion_time?: string; destroyed?: boolean}
            }
          | undefined
        if (!body?.data || body.metadata?.destroyed || (body.metadata?.deletion_time ?? '') !== '')
          return {kind: 'deleted'}
        const data = exactData(response, text, `${mount}${key}`)
        redactor.add(data)
        return {kind: 'ok', data, version: body.metadata?.version ?? 0}
      } catch (error) {
        const status = statusOf(error)
        // KV v2 answers a deleted or destroyed latest version with 404 and its metadata.
        if (status === 404) {
          const body = (
            error as {response?: {body?: {data?: {metadata?: {deletion_time?: string; destroyed?: boolean}}}}}
          ).response?.body
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
 * The secret's `data` exactly as the response text has it (numbers keep their digits, every key is kept): the
 * parsed body itself when it is exact (the text prints back from it), else a lossless re-read of the text.
 * A body that cannot be read exactly fails that secret, naming it; it is never passed on altered.
 */
function exactData(body: unknown, text: string, path: string): JsonObject {
  let exact: unknown
  try {
    exact = exactParsed(body, text) ?? parseJson(text)
  } catch (error) {
    throw new VaultError(
      'VAULT_REQUEST_FAILED',
      `read ${path}: the secret's data cannot be read exactly: ${(error as Error).message}`,
    )
  }
  const data = isJsonObject(exact) && isJsonObject(exact.data) ? exact.data.data : undefined
  if (!isJsonObject(data))
    throw new VaultError(
      'VAULT_REQUEST_FAILED',
      `read ${path}: the response text of the secret is not available to read its data exactly`,
    )
  return data
}
