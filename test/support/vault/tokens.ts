import {randomBytes} from 'node:crypto'
import type {Policy} from './policy.js'
import {badRequest} from './responses.js'

/** Vault's default and maximum token TTL when neither the token nor its mount sets one: 768h. */
export const SYSTEM_MAX_TTL_SECONDS = 768 * 3600

export interface TokenRecord {
  id: string
  accessor: string
  /** Namespace the token was created in (`''` root, `ns1/`): it works there and in child namespaces. */
  namespace: string
  policies: Policy[]
  policyNames: string[]
  root: boolean
  issuedAt: number
  /** TTL asked for at creation, in seconds (0 for the root token, which never expires). */
  creationTtl: number
  explicitMaxTtl: number
  expiresAt: number | null
  /** No renewal reaches beyond this (issue time + explicit max TTL, else the system max). */
  maxExpiresAt: number | null
  renewable: boolean
  /** Path that created the token, as `lookup-self` reports it (`auth/approle/login`). */
  path: string
  displayName: string
  meta: Record<string, string> | null
}

export interface IssueTokenOptions {
  namespace: string
  policies: Policy[]
  ttlSeconds?: number
  maxTtlSeconds?: number
  renewable?: boolean
  path: string
  displayName: string
  meta?: Record<string, string> | null
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

const randomBase62 = (length: number): string =>
  Array.from(randomBytes(length), (byte) => BASE62[byte % BASE62.length]).join('')

/** Go's `time.Duration.String()` for whole seconds, as Vault prints TTLs in warnings (`1h0m0s`). */
export function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  if (h > 0) return `${h}h${m}m${s}s`
  if (m > 0) return `${m}m${s}s`
  return `${s}s`
}

/** Policy names as Vault reports them: every non-root token also carries `default`. */
export const policyNamesOf = (policies: readonly Policy[]): string[] =>
  [...new Set(['default', ...policies.map((p) => p.name ?? 'inline')])].sort()

/** Tokens of every namespace, with TTLs measured on the injected clock. */
export class TokenStore {
  private readonly tokens = new Map<string, TokenRecord>()

  constructor(private readonly now: () => number) {}

  addRoot(id: string): TokenRecord {
    const record: TokenRecord = {
      id,
      accessor: randomBase62(24),
      namespace: '',
      policies: [],
      policyNames: ['root'],
      root: true,
      issuedAt: this.now(),
      creationTtl: 0,
      explicitMaxTtl: 0,
      expiresAt: null,
      maxExpiresAt: null,
      renewable: false,
      path: 'auth/token/root',
      displayName: 'root',
      meta: null,
    }
    this.tokens.set(id, record)
    return record
  }

  issue(options: IssueTokenOptions): TokenRecord {
    const now = this.now()
    const ttl = options.ttlSeconds && options.ttlSeconds > 0 ? options.ttlSeconds : SYSTEM_MAX_TTL_SECONDS
    const maxTtl = options.maxTtlSeconds && options.maxTtlSeconds > 0 ? options.maxTtlSeconds : SYSTEM_MAX_TTL_SECONDS
    const record: TokenRecord = {
      // Service tokens look like Vault 1.10+ ones (`hvs.` + base62) so redaction tests see a realistic shape.
      id: `hvs.${randomBase62(24)}`,
      accessor: randomBase62(24),
      namespace: options.namespace,
      policies: options.policies,
      policyNames: policyNamesOf(options.policies),
      root: false,
      issuedAt: now,
      creationTtl: Math.min(ttl, maxTtl),
      explicitMaxTtl: options.maxTtlSeconds ?? 0,
      expiresAt: now + Math.min(ttl, maxTtl) * 1000,
      maxExpiresAt: now + maxTtl * 1000,
      renewable: options.renewable ?? true,
      path: options.path,
      displayName: options.displayName,
      meta: options.meta ?? null,
    }
    this.tokens.set(record.id, record)
    return record
  }

  /** The live token with this id; unknown, revoked and expired tokens give undefined (expired ones are revoked). */
  lookup(id: string): TokenRecord | undefined {
    const record = this.tokens.get(id)
    if (record?.expiresAt != null && this.now() >= record.expiresAt) {
      this.tokens.delete(id)
      return undefined
    }
    return record
  }

  /** Seconds left before the token expires (0 for tokens without a TTL). */
  remainingTtl(record: TokenRecord): number {
    return record.expiresAt === null ? 0 : Math.max(0, Math.floor((record.expiresAt - this.now()) / 1000))
  }

  /**
   * `renew-self`: the new TTL is the increment (else the creation TTL) from now, capped at the token's max TTL
   * with the warning Vault's `framework.CalculateTTL` gives. As in Vault, the cap is exact to the millisecond
   * while `lease_duration` is whole seconds: under a second before the max TTL a renewal answers 0.
   */
  renew(record: TokenRecord, incrementSeconds: number | undefined): {ttl: number; warnings: string[]} {
    if (!record.renewable || record.expiresAt === null || record.maxExpiresAt === null) {
      throw badRequest('lease is not renewable')
    }
    const now = this.now()
    const wanted = incrementSeconds && incrementSeconds > 0 ? incrementSeconds : record.creationTtl
    const leftMs = record.maxExpiresAt - now
    if (leftMs < 0) throw badRequest('past the max TTL, cannot renew')
    const ttlMs = Math.min(wanted * 1000, leftMs)
    const ttl = Math.floor(ttlMs / 1000)
    const warnings =
      ttlMs < wanted * 1000
        ? [
            `TTL of ${JSON.stringify(goDuration(wanted))} exceeded the effective max_ttl of ${JSON.stringify(goDuration(ttl))}; TTL value is capped accordingly`,
          ]
        : []
    record.expiresAt = now + ttlMs
    return {ttl, warnings}
  }

  revoke(id: string): boolean {
    return this.tokens.delete(id)
  }

  /** Revokes every token but the root token (an operator's emergency revocation); returns how many. */
  revokeAll(): number {
    const ids = [...this.tokens.values()].filter((record) => !record.root).map((record) => record.id)
    for (const id of ids) this.tokens.delete(id)
    return ids.length
  }

  /** Live tokens other than the root token. */
  count(): number {
    return [...this.tokens.keys()].filter((id) => {
      const record = this.lookup(id)
      return record !== undefined && !record.root
    }).length
  }
}
