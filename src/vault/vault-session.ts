import type vault from 'node-vault'
import type {VaultConfig} from '../config/schema.js'
import type {Logger} from '../observability/logger.js'
import type {Redactor} from '../observability/redact.js'
import {describeVaultFailure, VaultError} from './vault-errors.js'
import type {Guarded} from './vault-guarded.js'
import type {IssuedToken} from './vault-login.js'

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
const saysInvalidToken = (error: unknown): boolean =>
  vaultErrorsOf(error).some((text) => /invalid token|token is expired|bad token/i.test(text))

export interface VaultSession {
  /** The first login; later ones happen inside `call` when the token runs out or stops working. */
  login(): Promise<void>
  /** One request with a working token (see below). */
  call<T>(operation: string, path: string, fn: () => Promise<T>): Promise<T>
}

export interface VaultSessionOptions {
  client: vault.client
  config: VaultConfig
  logger: Logger
  redactor: Redactor
  now: () => number
  guarded: Guarded
  logIn: () => Promise<IssuedToken | undefined>
}

/**
 * The token of one Vault connection: renewed once a third of its TTL is left, replaced by a new login when it
 * cannot be renewed (every method but token), and, when a 403 comes from a token that stopped working, one new login
 * and one retry of the request.
 */
export function createVaultSession(options: VaultSessionOptions): VaultSession {
  const {client, config, logger, redactor, now, guarded, logIn} = options
  const token: TokenState = {renewable: false, atMaxTtl: false, generation: 0}
  /** A fresh token: from a login, or the configured token as lookup-self describes it. */
  const applyAuth = (auth: IssuedToken | undefined): void => {
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
    applyAuth(await logIn())
    logger.debug('vault login succeeded', {
      method: config.auth.method,
      ttl_seconds: token.ttlMs === undefined ? null : token.ttlMs / 1000,
    })
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
  const needsRefresh = (): boolean =>
    token.expiresAt !== undefined &&
    token.ttlMs !== undefined &&
    now() >= token.expiresAt - token.ttlMs / 3 &&
    !(token.atMaxTtl && !canLogInAgain)
  const ensureFreshToken = async (): Promise<void> => {
    await refresh(async () => {
      if (token.renewable && !token.atMaxTtl) {
        const asked = Math.round((token.ttlMs ?? 0) / 1000)
        try {
          const response = await guarded('renew-self', 'auth/token/renew-self', () =>
            client.tokenRenewSelf({increment: asked}),
          )
          const granted = (response.auth as {lease_duration?: number} | undefined)?.lease_duration ?? 0
          if (granted > 0) token.expiresAt = now() + granted * 1000
          if (granted >= asked) {
            logger.debug('vault token renewed', {ttl_seconds: granted})
            return
          }
          token.atMaxTtl = true
          logger.info('vault token reached its max TTL', {
            ttl_seconds: granted,
            asked_seconds: asked,
            logs_in_again: canLogInAgain,
          })
          // Still more than a third of a TTL left: the next check logs in again, no renewal is tried before.
          if (granted * 1000 > (token.ttlMs ?? 0) / 3) return
        } catch (error) {
          token.atMaxTtl = true
          logger.warn('vault token renewal failed', {
            cause: describeVaultFailure(error).message,
            logs_in_again: canLogInAgain,
          })
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
        canLogInAgain
          ? 'Check the auth role: its token must be able to list and read the sources.'
          : 'Use a token whose TTL (and max TTL) outlasts the run, or an auth method that can log in again (approle, kubernetes, jwt, aws).',
      ),
      {operation, path},
    )

  /**
   * One request with a working token: renewed or replaced before expiry, and, when a 403 turns out to come
   * from a token that stopped working, one new login and one retry. A 403 that remains is a real denial.
   */
  const call = async <T>(operation: string, path: string, fn: () => Promise<T>): Promise<T> => {
    // Checked before awaiting anything: most requests have a fresh token and need no extra turn of the event loop.
    if (needsRefresh()) await ensureFreshToken()
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

  return {login, call}
}
