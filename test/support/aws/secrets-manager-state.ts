import {randomInt, randomUUID} from 'node:crypto'

export interface Tag {
  Key: string
  Value: string
}

/** A version's payload: exactly one of the two is set (`binary` as the base64 the JSON protocol carries). */
export interface SecretPayload {
  string?: string
  binary?: string
}

export interface StoredVersion {
  versionId: string
  payload: SecretPayload
  stages: string[]
  createdAt: number
  lastAccessedAt?: number
}

export interface StoredSecret {
  /** Creation sequence: the tie-breaker when many secrets share a creation millisecond. */
  seq: number
  arn: string
  name: string
  description?: string
  kmsKeyId?: string
  tags: Tag[]
  /** Insertion order = creation order of the versions. */
  versions: Map<string, StoredVersion>
  createdAt: number
  lastChangedAt: number
  lastAccessedAt?: number
  /** When DeleteSecret was called (DeleteSecret answers `DeletionDate` = this + the window, which `DeletedDate` reports). */
  deletedAt?: number
  /** When the recovery window ends and the secret is really gone (the API's `DeletionDate`). */
  deletionDate?: number
  /** Set by RotateSecret: the rotation Lambda and rules (ListSecrets/DescribeSecret report `RotationEnabled`). */
  rotation?: {lambdaArn?: string; rules?: Record<string, unknown>}
  /** Set by PutResourcePolicy, in the form the service keeps it (secrets-manager-policies.ts). */
  resourcePolicy?: string
  /** A primary's replicas (ReplicationStatus), in the order they were added. */
  replicas?: ReplicaEntry[]
  /** Set on a replica: the region of its primary (PrimaryRegion). A replica is read-only. */
  primaryRegion?: string
}

/** One entry of a primary's `ReplicationStatus`. */
export interface ReplicaEntry {
  region: string
  kmsKeyId?: string
  status: 'InSync' | 'Failed'
  statusMessage: string
}

export interface SecretVersionView {
  versionId: string
  stages: string[]
  value?: string
  binary?: string
  /** Epoch milliseconds. */
  createdDate: number
}

/** A plain copy of one secret for assertions; changing it changes nothing on the server. */
export interface SecretView {
  arn: string
  name: string
  /** `SecretString` of the AWSCURRENT version (undefined when there is none or it is binary). */
  value?: string
  currentVersionId?: string
  tags: Record<string, string>
  description?: string
  kmsKeyId?: string
  versions: SecretVersionView[]
  /** Epoch milliseconds, like every date of this view. */
  createdDate: number
  lastChangedDate: number
  deletedDate?: number
  deletionDate?: number
  /** A replica: its primary's region. */
  primaryRegion?: string
  /** A primary: its replicas as ReplicationStatus reports them. */
  replicas?: Array<{region: string; status: string; statusMessage: string; kmsKeyId?: string}>
  /** The resource policy as GetResourcePolicy returns it, when there is one. */
  resourcePolicy?: string
}

export interface SeedSecretOptions {
  name: string
  value: string
  tags?: Record<string, string>
  description?: string
  kmsKeyId?: string
  /** Seeds the secret already scheduled for deletion with the default 30-day recovery window. */
  scheduledForDeletion?: boolean
}

/** One successful write call that reached the Secrets Manager handler. */
export interface WriteCall {
  operation: string
  accountId: string
  region: string
  secretId: string
}

/** Every secret of every account-region as plain JSON, for the sandbox to keep between runs. */
export interface SecretsManagerStateData {
  seq: number
  regions: Array<{key: string; secrets: Array<Omit<StoredSecret, 'versions'> & {versions: StoredVersion[]}>}>
}

export const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]+$/
export const MAX_NAME_LENGTH = 512
export const MAX_VALUE_BYTES = 65_536
const DAY_MS = 86_400_000
const DEFAULT_RECOVERY_DAYS = 30
/** Secrets Manager keeps about 100 versions; older unlabelled (deprecated) ones are dropped. */
const MAX_VERSIONS = 100
const ARN_SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

const arnSuffix = (): string =>
  Array.from({length: 6}, () => ARN_SUFFIX_CHARS[randomInt(ARN_SUFFIX_CHARS.length)]).join('')

export const samePayload = (a: SecretPayload, b: SecretPayload): boolean =>
  a.string === b.string && a.binary === b.binary

export const currentVersion = (secret: StoredSecret): StoredVersion | undefined =>
  [...secret.versions.values()].find((v) => v.stages.includes('AWSCURRENT'))

/** `LastAccessedDate` is reported to the day, as AWS does. */
export const startOfDay = (ms: number): number => ms - (ms % DAY_MS)

/**
 * Secrets Manager state of the test server, per account and region. The handler calls the store methods
 * (`secretsIn`, `lookup`, `create`, `addVersion`, ...); tests and seeding use the helpers below them, which are
 * synchronous and bypass the API (no call counters, no write log).
 */
export class SecretsManagerState {
  private readonly regions = new Map<string, Map<string, StoredSecret>>()
  private readonly writes: WriteCall[] = []
  private seq = 0

  constructor(readonly now: () => number) {}

  /** The secrets of one account-region by name, after purging those whose recovery window has elapsed. */
  secretsIn(accountId: string, region: string): Map<string, StoredSecret> {
    const key = `${accountId}|${region}`
    let secrets = this.regions.get(key)
    if (!secrets) {
      secrets = new Map()
      this.regions.set(key, secrets)
    }
    const now = this.now()
    for (const [name, secret] of secrets) {
      if (secret.deletionDate !== undefined && secret.deletionDate <= now) secrets.delete(name)
    }
    return secrets
  }

  /** Every secret (not the write log), as plain JSON. */
  exportState(): SecretsManagerStateData {
    return {
      seq: this.seq,
      regions: [...this.regions].map(([key, secrets]) => ({
        key,
        secrets: [...secrets.values()].map((secret) => ({...secret, versions: [...secret.versions.values()]})),
      })),
    }
  }

  /** Replaces every secret with what `exportState` returned. */
  importState(data: SecretsManagerStateData): void {
    this.regions.clear()
    this.seq = data.seq
    for (const {key, secrets} of data.regions) {
      this.regions.set(
        key,
        new Map(
          secrets.map((secret) => [
            secret.name,
            {...secret, versions: new Map(secret.versions.map((version) => [version.versionId, version]))},
          ]),
        ),
      )
    }
  }

  /**
   * Resolves a `SecretId`: a name, a full ARN, or a partial ARN (without the random suffix). ARNs of another
   * account or region resolve to nothing: resource policies for cross-account reads are not modelled.
   */
  lookup(accountId: string, region: string, secretId: string): StoredSecret | undefined {
    const secrets = this.secretsIn(accountId, region)
    if (!secretId.startsWith('arn:')) return secrets.get(secretId)
    const prefix = `arn:aws:secretsmanager:${region}:${accountId}:secret:`
    if (!secretId.startsWith(prefix)) return undefined
    for (const secret of secrets.values()) if (secret.arn === secretId) return secret
    return secrets.get(secretId.slice(prefix.length))
  }

  create(
    accountId: string,
    region: string,
    init: {name: string; description?: string; kmsKeyId?: string; tags?: Tag[]},
  ): StoredSecret {
    const now = this.now()
    const secret: StoredSecret = {
      seq: ++this.seq,
      arn: `arn:aws:secretsmanager:${region}:${accountId}:secret:${init.name}-${arnSuffix()}`,
      name: init.name,
      tags: [],
      versions: new Map(),
      createdAt: now,
      lastChangedAt: now,
    }
    if (init.description !== undefined) secret.description = init.description
    if (init.kmsKeyId !== undefined) secret.kmsKeyId = init.kmsKeyId
    mergeTags(secret, init.tags ?? [])
    this.secretsIn(accountId, region).set(init.name, secret)
    return secret
  }

  /**
   * Adds a version carrying `stages`, moving each label off the version that had it. Moving AWSCURRENT labels the
   * version that had it AWSPREVIOUS (taking AWSPREVIOUS off any other), as PutSecretValue documents.
   */
  addVersion(secret: StoredSecret, versionId: string, payload: SecretPayload, stages: string[]): StoredVersion {
    const previous = currentVersion(secret)
    for (const version of secret.versions.values()) {
      version.stages = version.stages.filter((s) => !stages.includes(s))
    }
    if (stages.includes('AWSCURRENT') && previous) {
      for (const version of secret.versions.values()) version.stages = version.stages.filter((s) => s !== 'AWSPREVIOUS')
      previous.stages.push('AWSPREVIOUS')
    }
    const now = this.now()
    const version: StoredVersion = {versionId, payload: {...payload}, stages: [...stages], createdAt: now}
    secret.versions.set(versionId, version)
    secret.lastChangedAt = now
    for (const [id, old] of secret.versions) {
      if (secret.versions.size <= MAX_VERSIONS) break
      if (old.stages.length === 0) secret.versions.delete(id)
    }
    return version
  }

  /** Schedules deletion; `days === 0` removes the secret at once (ForceDeleteWithoutRecovery). */
  scheduleDeletion(accountId: string, region: string, secret: StoredSecret, days: number): number {
    const now = this.now()
    if (days === 0) {
      this.secretsIn(accountId, region).delete(secret.name)
      return now
    }
    secret.deletedAt = now
    secret.deletionDate = now + days * DAY_MS
    secret.lastChangedAt = now
    return secret.deletionDate
  }

  restore(secret: StoredSecret): void {
    delete secret.deletedAt
    delete secret.deletionDate
    secret.lastChangedAt = this.now()
  }

  /** Marks a read of a version (LastAccessedDate, reported to the day). */
  touch(secret: StoredSecret, version: StoredVersion): void {
    const day = startOfDay(this.now())
    secret.lastAccessedAt = day
    version.lastAccessedAt = day
  }

  /**
   * Replicates a primary into `regions` (CreateSecret's AddReplicaRegions, ReplicateSecretToRegions). A region
   * that already holds a same-named secret that is not this primary's replica fails (Status `Failed`, as AWS
   * reports it) unless `force` (ForceOverwriteReplicaSecret) replaces it.
   */
  replicate(
    accountId: string,
    region: string,
    secret: StoredSecret,
    regions: ReadonlyArray<{region: string; kmsKeyId?: string}>,
    force: boolean,
  ): void {
    const replicas = (secret.replicas ??= [])
    for (const wanted of regions) {
      const there = this.secretsIn(accountId, wanted.region)
      const occupant = there.get(secret.name)
      const entry: ReplicaEntry = {
        region: wanted.region,
        ...(wanted.kmsKeyId === undefined ? {} : {kmsKeyId: wanted.kmsKeyId}),
        status: 'InSync',
        statusMessage: 'Replication succeeded',
      }
      if (occupant && occupant.primaryRegion !== region && !force) {
        entry.status = 'Failed'
        entry.statusMessage = `Replication failed: Secret name ${secret.name} already exists in region ${wanted.region}.`
      } else {
        if (occupant) there.delete(secret.name)
        there.set(secret.name, this.replicaOf(secret, wanted.region, wanted.kmsKeyId, region))
      }
      replicas.push(entry)
    }
  }

  /** Brings every InSync replica of a primary to its current state (replicas follow their primary). */
  syncReplicas(accountId: string, region: string, secret: StoredSecret): void {
    for (const entry of secret.replicas ?? []) {
      if (entry.status !== 'InSync') continue
      const there = this.secretsIn(accountId, entry.region)
      if (there.get(secret.name)?.primaryRegion !== region) continue
      there.set(secret.name, this.replicaOf(secret, entry.region, entry.kmsKeyId, region))
    }
  }

  /** RemoveRegionsFromReplication: the replicas in `regions` are deleted; regions not replicated are ignored. */
  removeReplicas(accountId: string, region: string, secret: StoredSecret, regions: readonly string[]): void {
    for (const entry of (secret.replicas ?? []).filter((e) => regions.includes(e.region))) {
      const there = this.secretsIn(accountId, entry.region)
      if (entry.status === 'InSync' && there.get(secret.name)?.primaryRegion === region) there.delete(secret.name)
    }
    secret.replicas = (secret.replicas ?? []).filter((e) => !regions.includes(e.region))
  }

  private replicaOf(primary: StoredSecret, region: string, kmsKeyId: string | undefined, primaryRegion: string) {
    const copy: StoredSecret = {
      ...structuredClone({...primary, versions: new Map(), replicas: undefined}),
      seq: primary.seq,
      arn: primary.arn.replace(/^(arn:aws:secretsmanager:)[^:]+/, `$1${region}`),
      versions: new Map([...primary.versions].map(([id, version]) => [id, structuredClone(version)])),
      primaryRegion,
    }
    delete copy.replicas
    delete copy.rotation
    if (kmsKeyId === undefined) delete copy.kmsKeyId
    else copy.kmsKeyId = kmsKeyId
    return copy
  }

  recordWrite(call: WriteCall): void {
    this.writes.push(call)
  }

  // ---- helpers for tests and seeding -------------------------------------------------------------------------

  /** Creates a secret directly (no API call, not in the write log), as if it had existed before the test. */
  seedSecret(accountId: string, region: string, options: SeedSecretOptions): {arn: string; versionId: string} {
    if (!NAME_PATTERN.test(options.name) || options.name.length > MAX_NAME_LENGTH) {
      throw new Error(`seedSecret: ${JSON.stringify(options.name)} is not a valid Secrets Manager name`)
    }
    if (this.secretsIn(accountId, region).has(options.name)) {
      throw new Error(`seedSecret: ${options.name} already exists in ${accountId}/${region}`)
    }
    const secret = this.create(accountId, region, {
      name: options.name,
      ...(options.description !== undefined && {description: options.description}),
      ...(options.kmsKeyId !== undefined && {kmsKeyId: options.kmsKeyId}),
      tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({Key, Value})),
    })
    const versionId = randomUUID()
    this.addVersion(secret, versionId, {string: options.value}, ['AWSCURRENT'])
    if (options.scheduledForDeletion) this.scheduleDeletion(accountId, region, secret, DEFAULT_RECOVERY_DAYS)
    return {arn: secret.arn, versionId}
  }

  /**
   * Creates a secret with no version at all, as CreateSecret without SecretString (or one whose value never
   * landed) leaves it: listed, describable, and without an AWSCURRENT value to read.
   */
  seedPlaceholder(
    accountId: string,
    region: string,
    options: Omit<SeedSecretOptions, 'value' | 'scheduledForDeletion'>,
  ): {arn: string} {
    if (this.secretsIn(accountId, region).has(options.name)) {
      throw new Error(`seedPlaceholder: ${options.name} already exists in ${accountId}/${region}`)
    }
    const secret = this.create(accountId, region, {
      name: options.name,
      ...(options.description !== undefined && {description: options.description}),
      ...(options.kmsKeyId !== undefined && {kmsKeyId: options.kmsKeyId}),
      tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({Key, Value})),
    })
    return {arn: secret.arn}
  }

  /** A plain copy of a secret by name or ARN (including one scheduled for deletion), or undefined. */
  getSecret(accountId: string, region: string, nameOrArn: string): SecretView | undefined {
    const secret = this.lookup(accountId, region, nameOrArn)
    return secret && toView(secret)
  }

  /** Names in the account-region, sorted; secrets scheduled for deletion only when asked for. */
  listNames(accountId: string, region: string, options: {includePlannedDeletion?: boolean} = {}): string[] {
    return [...this.secretsIn(accountId, region).values()]
      .filter((s) => options.includePlannedDeletion || s.deletedAt === undefined)
      .map((s) => s.name)
      .sort()
  }

  /** Simulates an edit outside secretsync (console, another tool): a new AWSCURRENT version. */
  putValueOutOfBand(accountId: string, region: string, name: string, value: string): {versionId: string} {
    const secret = this.lookup(accountId, region, name)
    if (!secret) throw new Error(`putValueOutOfBand: no secret ${name} in ${accountId}/${region}`)
    const versionId = randomUUID()
    this.addVersion(secret, versionId, {string: value}, ['AWSCURRENT'])
    return {versionId}
  }

  /** Simulates a resource policy put (or, with undefined, deleted) outside secretsync, kept as the text given. */
  setPolicyOutOfBand(accountId: string, region: string, name: string, policy: string | undefined): void {
    const secret = this.lookup(accountId, region, name)
    if (!secret) throw new Error(`setPolicyOutOfBand: no secret ${name} in ${accountId}/${region}`)
    if (policy === undefined) delete secret.resourcePolicy
    else secret.resourcePolicy = policy
  }

  /** Successful write calls (Create/Put/Update/Delete/Restore/Tag/Untag) made through the API, oldest first. */
  writeCalls(filter: Partial<Omit<WriteCall, 'secretId'>> = {}): WriteCall[] {
    return this.writes
      .filter(
        (w) =>
          (filter.operation === undefined || w.operation === filter.operation) &&
          (filter.accountId === undefined || w.accountId === filter.accountId) &&
          (filter.region === undefined || w.region === filter.region),
      )
      .map((w) => ({...w}))
  }
}

/** Adds or replaces tags by key, keeping the order in which keys were first added. */
export function mergeTags(secret: StoredSecret, tags: Tag[]): void {
  for (const tag of tags) {
    const existing = secret.tags.find((t) => t.Key === tag.Key)
    if (existing) existing.Value = tag.Value
    else secret.tags.push({Key: tag.Key, Value: tag.Value})
  }
}

function toView(secret: StoredSecret): SecretView {
  const current = currentVersion(secret)
  const view: SecretView = {
    arn: secret.arn,
    name: secret.name,
    tags: Object.fromEntries(secret.tags.map((t) => [t.Key, t.Value])),
    versions: [...secret.versions.values()].map((v) => ({
      versionId: v.versionId,
      stages: [...v.stages],
      ...(v.payload.string !== undefined && {value: v.payload.string}),
      ...(v.payload.binary !== undefined && {binary: v.payload.binary}),
      createdDate: v.createdAt,
    })),
    createdDate: secret.createdAt,
    lastChangedDate: secret.lastChangedAt,
  }
  if (current?.payload.string !== undefined) view.value = current.payload.string
  if (current) view.currentVersionId = current.versionId
  if (secret.description !== undefined) view.description = secret.description
  if (secret.kmsKeyId !== undefined) view.kmsKeyId = secret.kmsKeyId
  if (secret.deletedAt !== undefined) view.deletedDate = secret.deletedAt
  if (secret.deletionDate !== undefined) view.deletionDate = secret.deletionDate
  if (secret.primaryRegion !== undefined) view.primaryRegion = secret.primaryRegion
  if (secret.replicas && secret.replicas.length > 0) view.replicas = secret.replicas.map((entry) => ({...entry}))
  if (secret.resourcePolicy !== undefined) view.resourcePolicy = secret.resourcePolicy
  return view
}
