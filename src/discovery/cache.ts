import type {DiscoveryObjectStore} from './store-cache.js'
import type {DiscoveredAccount} from './types.js'

/** One block's discovery result as cached: when it was queried, for how long it counts, what was asked. */
export interface CachedDiscovery {
  /** Milliseconds since the epoch. */
  createdAt: number
  ttlMs: number
  /** Fingerprint of what was asked of AWS (see `discoveryQueryKey`); a different question is a miss. */
  query: string
  accounts: DiscoveredAccount[]
}

/** Where discovery results are kept between (merge store) or within (memory) runs. */
export interface DiscoveryCache {
  /** Where entries live, for logs and the report. */
  readonly location: string
  read(block: string): Promise<CachedDiscovery | undefined>
  write(block: string, entry: CachedDiscovery): Promise<void>
}

/** Whether a cached entry answers the same question and is younger than the block's `cache_ttl` now. */
export const isFresh = (entry: CachedDiscovery, expected: {query: string; ttlMs: number; now: number}): boolean =>
  entry.query === expected.query && expected.now >= entry.createdAt && expected.now - entry.createdAt < expected.ttlMs

/** A cache for one run (no merge store): entries are copied in and out, so callers cannot change them. */
export function createMemoryDiscoveryCache(): DiscoveryCache {
  const entries = new Map<string, CachedDiscovery>()
  return {
    location: 'memory',
    read: async (block) => {
      const entry = entries.get(block)
      return entry && structuredClone(entry)
    },
    write: async (block, entry) => {
      entries.set(block, structuredClone(entry))
    },
  }
}

/** Reads through `cache` and writes nothing: for `--dry-run`, which writes nowhere, the merge store included. */
export const readOnlyDiscoveryCache = (cache: DiscoveryCache): DiscoveryCache => ({
  location: cache.location,
  read: (block) => cache.read(block),
  write: async () => {},
})

/**
 * A cache in the merge store: `{prefix}discovery/{block}.json` holding `{created_at, ttl_ms, query, accounts}`.
 * An object that does not parse, like any S3 failure, is thrown: discovery warns, queries AWS and overwrites it.
 */
export function createStoreDiscoveryCache(objects: DiscoveryObjectStore): DiscoveryCache {
  return {
    location: objects.location('*'),
    read: async (block) => {
      const body = await objects.read(block)
      if (body === undefined) return undefined
      const entry = parseCachedDiscovery(body)
      // Never quote the body: say where, so an operator can look.
      if (!entry)
        throw new Error(`${objects.location(block)} is not a discovery cache object (${body.length} characters)`)
      return entry
    },
    write: (block, entry) => objects.write(block, serializeCachedDiscovery(entry)),
  }
}

export const serializeCachedDiscovery = (entry: CachedDiscovery): string =>
  JSON.stringify({
    format: 1,
    created_at: new Date(entry.createdAt).toISOString(),
    ttl_ms: entry.ttlMs,
    query: entry.query,
    accounts: entry.accounts.map((account) => ({
      id: account.id,
      name: account.name,
      status: account.status,
      ou_id: account.ouId ?? null,
      ou_path: account.ouPath,
      tags: account.tags,
    })),
  })

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const isStringRecord = (value: unknown): value is Record<string, string> =>
  isRecord(value) && Object.values(value).every((item) => typeof item === 'string')

function parseAccount(value: unknown): DiscoveredAccount | undefined {
  if (!isRecord(value)) return undefined
  const {id, name, status, ou_id: ouId, ou_path: ouPath, tags} = value
  if (typeof id !== 'string' || typeof name !== 'string' || typeof status !== 'string') return undefined
  if (ouId !== null && typeof ouId !== 'string') return undefined
  if (!Array.isArray(ouPath) || !ouPath.every((item) => typeof item === 'string')) return undefined
  if (tags !== null && !isStringRecord(tags)) return undefined
  return {
    id,
    name,
    status,
    ...(ouId === null ? {} : {ouId}),
    ouPath: [...(ouPath as string[])],
    tags: tags === null ? null : {...tags},
  }
}

/** The entry a cache object holds, or undefined when it is not one (corrupt, or another format). */
export function parseCachedDiscovery(body: string): CachedDiscovery | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return undefined
  }
  if (!isRecord(parsed) || parsed.format !== 1 || !Array.isArray(parsed.accounts)) return undefined
  const createdAt = typeof parsed.created_at === 'string' ? Date.parse(parsed.created_at) : Number.NaN
  if (Number.isNaN(createdAt) || typeof parsed.ttl_ms !== 'number' || typeof parsed.query !== 'string') return undefined
  const accounts = parsed.accounts.map(parseAccount)
  if (accounts.some((account) => account === undefined)) return undefined
  return {createdAt, ttlMs: parsed.ttl_ms, query: parsed.query, accounts: accounts as DiscoveredAccount[]}
}
