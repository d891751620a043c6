import {parseVaultJson, stringifyVaultJson} from './exact-json.js'
import {badRequest} from './responses.js'

export interface KvVersion {
  /** The data as the JSON text it was written with (numbers exact, every key kept); null once destroyed. */
  data: string | null
  createdAt: number
  /** Soft-delete time; the version reads as deleted once the clock passes it. */
  deletedAt: number | null
  destroyed: boolean
}

export interface KvSecret {
  versions: Map<number, KvVersion>
  currentVersion: number
  /** 0 until versions beyond `max_versions` have been pruned, as in Vault. */
  oldestVersion: number
  createdAt: number
  updatedAt: number
  /** 0 = the engine default. */
  maxVersions: number
  casRequired: boolean
  customMetadata: Record<string, string> | null
}

export type KvRead = {kind: 'missing'} | {kind: 'live' | 'gone'; version: number; record: KvVersion; secret: KvSecret}

export interface KvMetadataUpdate {
  maxVersions?: number
  casRequired?: boolean
  customMetadata?: Record<string, string> | null
}

// Vault keeps 10 versions per key when neither the engine config nor the key sets max_versions.
const DEFAULT_MAX_VERSIONS = 10
// Guards link resolution against links that point below themselves.
const MAX_LINK_HOPS = 64

const emptySecret = (now: number): KvSecret => ({
  versions: new Map<number, KvVersion>(),
  currentVersion: 0,
  oldestVersion: 0,
  createdAt: now,
  updatedAt: now,
  maxVersions: 0,
  casRequired: false,
  customMetadata: null,
})

/** A version's data as a fresh object (numbers a JS number cannot hold exactly as lossless-json's LosslessNumber). */
export const versionData = (record: KvVersion): Record<string, unknown> | null =>
  record.data === null ? null : (parseVaultJson(record.data) as Record<string, unknown>)

/** Folder form of a path: `''` for the mount root, otherwise ending in `/`. */
export const asFolder = (path: string): string => (path === '' || path.endsWith('/') ? path : `${path}/`)

/**
 * The storage of one KV v2 mount: keys relative to the mount (`app/db`), their versions and metadata.
 * Listing aliases and folder links are test hooks that make the tree look like something no real KV store
 * produces (unsafe keys, loops), so walkers can be tested against them.
 */
export class KvStore {
  private readonly secrets = new Map<string, KvSecret>()
  private readonly aliases = new Map<string, string[]>()
  private readonly links = new Map<string, string>()

  constructor(private readonly now: () => number) {}

  exists(key: string): boolean {
    return this.secrets.has(this.resolve(key))
  }

  metadata(key: string): KvSecret | undefined {
    return this.secrets.get(this.resolve(key))
  }

  write(
    key: string,
    data: Record<string, unknown>,
    cas?: number,
  ): {version: number; record: KvVersion; secret: KvSecret} {
    const now = this.now()
    const secret = this.secrets.get(key) ?? emptySecret(now)
    if (cas !== undefined && cas !== secret.currentVersion) {
      throw badRequest('check-and-set parameter did not match the current version')
    }
    if (cas === undefined && secret.casRequired) throw badRequest('check-and-set parameter required for this call')
    const version = secret.currentVersion + 1
    const record: KvVersion = {data: stringifyVaultJson(data), createdAt: now, deletedAt: null, destroyed: false}
    secret.versions.set(version, record)
    secret.currentVersion = version
    secret.updatedAt = now
    this.prune(secret)
    this.secrets.set(key, secret)
    return {version, record, secret}
  }

  /** The given version (latest when 0 or unset); `gone` when soft-deleted or destroyed. */
  read(key: string, version = 0): KvRead {
    const secret = this.secrets.get(this.resolve(key))
    if (!secret) return {kind: 'missing'}
    const number = version > 0 ? version : secret.currentVersion
    const record = secret.versions.get(number)
    if (!record) return {kind: 'missing'}
    const gone = record.destroyed || (record.deletedAt !== null && record.deletedAt <= this.now())
    return {kind: gone ? 'gone' : 'live', version: number, record, secret}
  }

  deleteVersions(key: string, versions: number[]): void {
    const now = this.now()
    for (const record of this.versionsOf(key, versions)) {
      if (!record.destroyed && record.deletedAt === null) record.deletedAt = now
    }
  }

  undeleteVersions(key: string, versions: number[]): void {
    for (const record of this.versionsOf(key, versions)) if (!record.destroyed) record.deletedAt = null
  }

  destroyVersions(key: string, versions: number[]): void {
    for (const record of this.versionsOf(key, versions)) {
      record.destroyed = true
      record.data = null
    }
  }

  latestVersion(key: string): number {
    return this.secrets.get(key)?.currentVersion ?? 0
  }

  deleteMetadata(key: string): void {
    this.secrets.delete(key)
  }

  writeMetadata(key: string, update: KvMetadataUpdate): void {
    const now = this.now()
    const secret = this.secrets.get(key) ?? emptySecret(now)
    if (update.maxVersions !== undefined) secret.maxVersions = update.maxVersions
    if (update.casRequired !== undefined) secret.casRequired = update.casRequired
    if (update.customMetadata !== undefined) secret.customMetadata = update.customMetadata
    secret.updatedAt = now
    this.prune(secret)
    this.secrets.set(key, secret)
  }

  /**
   * Keys directly below a folder, sorted as Vault's storage lists them (sub-folders end in `/`), followed by
   * any listing aliases for that folder in the order they were added (duplicates kept on purpose).
   */
  list(folder: string): string[] {
    const resolved = this.resolve(asFolder(folder))
    const children = new Set<string>()
    for (const key of this.secrets.keys()) {
      if (!key.startsWith(resolved)) continue
      const rest = key.slice(resolved.length)
      const slash = rest.indexOf('/')
      children.add(slash === -1 ? rest : rest.slice(0, slash + 1))
    }
    return [...[...children].sort(), ...(this.aliases.get(resolved) ?? [])]
  }

  addAlias(folder: string, keys: string[]): void {
    const path = asFolder(folder)
    this.aliases.set(path, [...(this.aliases.get(path) ?? []), ...keys])
  }

  /** Makes `folder` and everything below it read as `target` (a symlink), e.g. `a/loop/` -> `a/`. */
  link(folder: string, target: string): void {
    this.links.set(asFolder(folder), asFolder(target))
  }

  private resolve(path: string): string {
    let current = path
    for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
      const from = [...this.links.keys()].filter((l) => current.startsWith(l)).sort((a, b) => b.length - a.length)[0]
      if (from === undefined) return current
      current = (this.links.get(from) ?? '') + current.slice(from.length)
    }
    return current
  }

  private versionsOf(key: string, versions: number[]): KvVersion[] {
    const secret = this.secrets.get(key)
    if (!secret) return []
    return versions.map((v) => secret.versions.get(v)).filter((r): r is KvVersion => r !== undefined)
  }

  private prune(secret: KvSecret): void {
    const max = secret.maxVersions > 0 ? secret.maxVersions : DEFAULT_MAX_VERSIONS
    const numbers = [...secret.versions.keys()].sort((a, b) => a - b)
    if (numbers.length <= max) return
    for (const old of numbers.splice(0, numbers.length - max)) secret.versions.delete(old)
    secret.oldestVersion = numbers[0] ?? 0
  }
}
