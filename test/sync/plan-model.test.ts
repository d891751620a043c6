import {randomInt} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import type {AppliedMetadata, AppliedRecord, RunLock, SnapshotStore} from '../../src/store/index.js'
import {
  DEFAULT_KEY_NAME_TEMPLATE,
  DEFAULT_NAME_TEMPLATE,
  parseNameTemplate,
  type NameTemplate,
} from '../../src/sync/name-template.js'
import {kmsKeyRef, MANAGED_DESCRIPTION, TARGET_TAG} from '../../src/sync/metadata.js'
import {POLICY_TAG, policyHash} from '../../src/sync/resource-policy.js'
import {deletionVerdict} from '../../src/sync/sync-phase.js'
import {syncTarget, type SyncSettings} from '../../src/sync/sync-target.js'
import type {TargetSyncResult} from '../../src/sync/types.js'
import {contentHash, type JsonObject} from '../../src/util/canonical-json.js'
import {jsonObject, stringifyJson, type JsonValue} from '../../src/util/exact-json.js'
import {seededRandom} from '../support/controls.js'
import {recordingRuntime} from '../support/runtime.js'
import {REPLICAS_TAG} from '../../src/sync/replicas.js'
import {FAILING_REPLICA_REGIONS, SecretsManagerModel, type ModelSecret} from './sm-model.js'

// Model-based: seeded random AWS state x random desired state -> read, plan, apply (the real sync code) against
// an in-memory Secrets Manager -> the oracle below, computed from the inputs alone, says what AWS must hold.

const SEEDS = 250
// A fresh base each run explores new states; a failure prints its seed, and PLAN_MODEL_SEED=<seed> replays it first.
const BASE = Number(process.env.PLAN_MODEL_SEED ?? randomInt(1, 2 ** 31))
const TARGET = 't'
const PREFIX = 'p/'
const OWNERSHIP = {key: 'managed-by', value: 'secretsync'}
const NAMES = ['p/a', 'p/b', 'p/c', 'p/d', 'p/e', 'p/f', 'p/g/h', 'p/g/i', 'q/outside']
const TAG_POOL = ['team', 'env', 'cost']
const KEYS = [undefined, 'alias/k1', 'alias/k2', 'arn:aws:kms:us-east-1:111111111111:key/1234']
// Issue 16 replica regions; ap-south-1 is where the model's replications fail.
const REPLICA_POOL = ['eu-west-1', 'us-west-2', 'ap-south-1']
const randomRegions = (r: Random, failing = true): string[] =>
  REPLICA_POOL.filter((region) => (failing || !FAILING_REPLICA_REGIONS.has(region)) && r.chance(0.35))
// Resource policies (issue 16): the target's (a template with {{account_id}}, or none) and those seeded secrets carry.
const ACCOUNT = '111111111111'
const POLICY_PRINCIPALS = ['{{account_id}}', '222222222222', 'arn:aws:iam::333333333333:root']
const policyDoc = (principal: string): JsonObject =>
  jsonObject([
    ['Version', '2012-10-17'],
    [
      'Statement',
      [
        jsonObject([
          ['Effect', 'Allow'],
          ['Principal', jsonObject([['AWS', principal]])],
          ['Action', 'secretsmanager:GetSecretValue'],
          ['Resource', '*'],
        ]),
      ],
    ],
  ])
const rendered = (template: JsonObject): JsonObject =>
  JSON.parse(JSON.stringify(template).replaceAll('{{account_id}}', ACCOUNT)) as JsonObject
/** How a seeded secret's policy came to be: none, secretsync's (maybe edited since), or someone else's. */
type PolicyKind = 'none' | 'ours' | 'edited' | 'foreign'

function random(seed: number) {
  const next = seededRandom(seed)
  const int = (n: number): number => Math.floor(next() * n)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T
  const chance = (p: number): boolean => next() < p
  return {int, pick, chance}
}
type Random = ReturnType<typeof random>

interface Metadata {
  tags: Record<string, string>
  kmsKeyId?: string
}

const randomTargetMetadata = (r: Random): Metadata => {
  const tags: Record<string, string> = {}
  for (const key of TAG_POOL) if (r.chance(0.5)) tags[key] = r.pick(['x', 'y'])
  const kmsKeyId = r.pick(KEYS)
  return {tags, ...(kmsKeyId ? {kmsKeyId} : {})}
}
const fullTags = (meta: Metadata): Record<string, string> => ({
  ...meta.tags,
  [OWNERSHIP.key]: OWNERSHIP.value,
  [TARGET_TAG]: TARGET,
})
/** The desired-state path AWS names are generated from; names outside the prefix are never desired. */
const pathOf = (name: string): string | undefined => (name.startsWith(PREFIX) ? name.slice(PREFIX.length) : undefined)

/**
 * Shapes (issue 16) and, for the oracle, what each puts in AWS: name -> expected value (a JSON object, or the exact
 * text for format raw). Besides the default: a template that moves every name (a template change: creates plus
 * deletions of the old names), one that moves some, and one secret per top-level key as JSON or raw text.
 */
interface Shape {
  text?: string
  granularity?: 'key'
  format?: 'raw'
  nameOf(path: string, key?: string): string
}
const SHAPES: Shape[] = [
  {nameOf: (path) => `${PREFIX}${path}`},
  {text: '{{secret_prefix}}{{path | upper}}', nameOf: (path) => `${PREFIX}${path.toUpperCase()}`},
  {text: '{{secret_prefix}}{{path | replace "g/" "g-"}}', nameOf: (path) => `${PREFIX}${path.replaceAll('g/', 'g-')}`},
  {granularity: 'key', nameOf: (path, key) => `${PREFIX}${path}/${key}`},
  {granularity: 'key', format: 'raw', nameOf: (path, key) => `${PREFIX}${path}/${key}`},
]
// Independent of the product's rules: AWS's characters, and no empty, "." or ".." segment.
const validName = (name: string): boolean =>
  /^[A-Za-z0-9/_+=.@-]+$/.test(name) && !name.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')
const rawText = (value: JsonValue): string => (typeof value === 'string' ? value : stringifyJson(value))

/** What the shape puts in AWS for the desired state: names with valid names, and the names that must fail. */
function expectedOf(s: {desired: Map<string, JsonObject>; shape: Shape}): {
  values: Map<string, JsonObject | string>
  failing: Set<string>
} {
  const values = new Map<string, JsonObject | string>()
  const failing = new Set<string>()
  for (const [path, secret] of s.desired) {
    const units: Array<[string, JsonObject | string]> =
      s.shape.granularity === 'key'
        ? Object.keys(secret).map((key) => [
            s.shape.nameOf(path, key),
            s.shape.format === 'raw'
              ? rawText(secret[key] as JsonValue)
              : jsonObject([[key, secret[key] as JsonValue]]),
          ])
        : [[s.shape.nameOf(path), secret]]
    for (const [name, value] of units) {
      if (validName(name)) values.set(name, value)
      else failing.add(name)
    }
  }
  return {values, failing}
}
const desiredOf = (
  s: {desired: Map<string, JsonObject>; shape: Shape},
  name: string,
): JsonObject | string | undefined => expectedOf(s).values.get(name)
// Secret data is data (issue 17): prototype-named, empty, unicode and control-character keys and hostile text
// values must plan, apply and compare exactly like any other.
const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '',
  'émoji 🔑',
  '\u001b[2J',
  '::error::x',
  '##[add-mask]k',
]
const HOSTILE_VALUES = ['\u001b]0;pwn\u0007', '\n::error::forged', '##[set-output name=x;]y', '\u202e', '%0A', '']
const randomValue = (r: Random): JsonObject => {
  const value = jsonObject([['k', r.pick(['1', '2', '3'])]])
  if (r.chance(0.3)) value.n = r.int(3)
  if (r.chance(0.3)) value[r.pick(HOSTILE_KEYS)] = r.chance(0.5) ? r.pick(['1', '2']) : r.pick(HOSTILE_VALUES)
  return value
}

type Kind =
  | 'owned'
  | 'unowned'
  | 'other-target'
  | 'deleted-owned'
  | 'deleted-unowned'
  | 'placeholder-owned'
  | 'placeholder-unowned'

interface Scenario {
  shape: Shape
  initial: ModelSecret[]
  kinds: Map<string, Kind>
  desired: Map<string, JsonObject>
  previous: Metadata
  wanted: Metadata
  record?: AppliedRecord
  adopt: boolean
  deleteOrphans: boolean
  maxDeletions: number
  incomplete: string[]
  rotation: 'skip' | 'overwrite'
  /** The target's replica_regions. */
  replicas: string[]
  /** The target's resource_policy template, when it sets one. */
  resourcePolicy?: JsonObject
  policyKinds: Map<string, PolicyKind>
}

function scenario(seed: number): Scenario {
  const r = random(seed)
  const shape = r.chance(0.4) ? (SHAPES[0] as Shape) : r.pick(SHAPES)
  const previous = randomTargetMetadata(r)
  const wanted = r.chance(0.5) ? previous : randomTargetMetadata(r)
  const initial: ModelSecret[] = []
  const kinds = new Map<string, Kind>()
  const desired = new Map<string, JsonObject>()
  const recorded: AppliedRecord['secrets'] = {}
  let version = 0
  const resourcePolicy = r.chance(0.5) ? policyDoc(r.pick(POLICY_PRINCIPALS)) : undefined
  const policyKinds = new Map<string, PolicyKind>()
  for (const name of NAMES) {
    const path = pathOf(name)
    if (path !== undefined && r.chance(0.55)) desired.set(path, randomValue(r))
    if (r.chance(0.3)) continue
    const kind = r.pick<Kind>([
      'owned',
      'owned',
      'owned',
      'unowned',
      'other-target',
      'deleted-owned',
      'deleted-unowned',
      'placeholder-owned',
      'placeholder-unowned',
    ])
    kinds.set(name, kind)
    const owned = kind === 'owned' || kind === 'deleted-owned' || kind === 'placeholder-owned'
    const tags: Record<string, string> = owned
      ? fullTags(previous)
      : kind === 'other-target'
        ? {...fullTags(previous), [TARGET_TAG]: 'other'}
        : {}
    // Metadata drift and foreign tags: someone edits a tag, adds their own, or switches the key or description.
    if (r.chance(0.2)) tags.theirs = 'keep'
    if (owned && r.chance(0.2)) tags[r.pick(TAG_POOL)] = 'edited'
    const value = r.chance(0.15)
      ? 'not json'
      : r.chance(0.5) && desiredOf({desired, shape}, name) !== undefined
        ? shownText(desiredOf({desired, shape}, name) as JsonObject | string)
        : JSON.stringify(randomValue(r))
    const placeholder = kind.startsWith('placeholder')
    const versionId = `seed-${++version}`
    const kmsKeyId = owned && r.chance(0.2) ? r.pick(KEYS) : owned ? previous.kmsKeyId : undefined
    initial.push({
      name,
      tags,
      ...(kmsKeyId ? {kmsKeyId} : {}),
      ...(owned && r.chance(0.85)
        ? {description: MANAGED_DESCRIPTION}
        : r.chance(0.5)
          ? {description: 'hand made'}
          : {}),
      versions: placeholder ? {} : {[versionId]: value},
      ...(placeholder ? {} : {current: versionId}),
      deleted: kind.startsWith('deleted'),
      // Issue 16: a rotation Lambda owns some values; the target leaves them alone unless it says overwrite.
      ...(r.chance(0.15) ? {rotation: true} : {}),
      ...seededPolicy(r, name, tags, policyKinds),
    })
    // Replicas: an owned secret's are those its replicas tag records (secretsync requested them); others may have
    // some made by hand, without the tag.
    const seeded = initial.at(-1) as ModelSecret
    const replicas = randomRegions(r, false)
    if (replicas.length > 0 && !placeholder) {
      seeded.replicas = Object.fromEntries(replicas.map((region) => [region, 'InSync' as const]))
      if (owned) seeded.tags[REPLICAS_TAG] = replicas.join(' ')
    }
    // The applied record vouches for some owned secrets, now and then wrongly (a stale hash or version).
    if (owned && !placeholder && r.chance(0.6)) {
      recorded[name] = {
        hash: r.chance(0.8) ? contentHash(safeParse(value)) : 'stale',
        version_id: r.chance(0.85) ? versionId : 'older',
      }
    }
  }
  const metadata: AppliedMetadata = {
    tags: fullTags(previous),
    kms_key_id: previous.kmsKeyId ?? null,
    description: MANAGED_DESCRIPTION,
  }
  return {
    shape,
    initial,
    kinds,
    desired,
    previous,
    wanted,
    ...(r.chance(0.8)
      ? {
          record: {
            version: 1,
            applied_at: '2026-01-01T00:00:00.000Z',
            secrets: recorded,
            ...(r.chance(0.9) ? {metadata} : {}),
          },
        }
      : {}),
    adopt: r.chance(0.3),
    deleteOrphans: r.chance(0.6),
    maxDeletions: r.int(5),
    incomplete: r.chance(0.25) ? ['source base: folder secret/base/x/ answered 403'] : [],
    rotation: r.chance(0.3) ? 'overwrite' : 'skip',
    replicas: r.chance(0.5) ? [] : randomRegions(r),
    ...(resourcePolicy ? {resourcePolicy} : {}),
    policyKinds,
  }
}

/** A seeded secret's policy (any kind of secret may have one); `ours` and `edited` also set the policy tag. */
function seededPolicy(r: Random, name: string, tags: Record<string, string>, kinds: Map<string, PolicyKind>) {
  const kind = r.pick<PolicyKind>(['none', 'none', 'ours', 'edited', 'foreign'])
  kinds.set(name, kind)
  if (kind === 'none') return {}
  const put = rendered(policyDoc(r.pick(POLICY_PRINCIPALS)))
  if (kind === 'ours') tags[POLICY_TAG] = policyHash(put)
  if (kind === 'edited') tags[POLICY_TAG] = policyHash(rendered(policyDoc('444444444444')))
  return {policy: JSON.stringify(put)}
}

const shownText = (value: JsonObject | string): string => (typeof value === 'string' ? value : stringifyJson(value))

function safeParse(text: string): JsonObject | string {
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as JsonObject) : text
  } catch {
    return text
  }
}

/** An applied-record store in memory, with a lock that is always free. */
function memoryStore(initial?: AppliedRecord) {
  let record = initial
  const store = {
    readApplied: () => Promise.resolve(record && structuredClone(record)),
    writeApplied: (_t: string, _a: string, _r: string, next: AppliedRecord) => {
      record = structuredClone(next)
      return Promise.resolve()
    },
    acquireLock: () => Promise.resolve({} as RunLock),
    releaseLock: () => Promise.resolve(true),
    // No snapshot history and a lock that is never lost: the plan is re-validated against an unchanged store.
    latest: () => Promise.resolve(undefined),
    holdLock: () =>
      Promise.resolve({
        signal: new AbortController().signal,
        lostReason: undefined,
        release: () => Promise.resolve(true),
      }),
  }
  return store as unknown as SnapshotStore
}

async function run(
  s: Scenario,
  aws: SecretsManagerModel,
  store: SnapshotStore,
  dryRun = false,
): Promise<TargetSyncResult> {
  const settings: SyncSettings = {
    dryRun,
    adopt: s.adopt,
    showValues: false,
    deleteOrphans: s.deleteOrphans,
    maxDeletions: s.maxDeletions,
    recoveryWindowDays: 7,
    forceDelete: false,
    ownership: OWNERSHIP,
  }
  const staged = await syncTarget({
    target: {
      name: TARGET,
      region: 'us-east-1',
      prefix: PREFIX,
      // Without a shape the default applies (the default skips rotated secrets); with one, every field is explicit.
      ...(s.shape === SHAPES[0] && s.rotation === 'skip' && s.replicas.length === 0
        ? {}
        : {
            shape: {
              nameTemplate: parsedTemplate(
                s.shape.text ?? (s.shape.granularity === 'key' ? DEFAULT_KEY_NAME_TEMPLATE : DEFAULT_NAME_TEMPLATE),
              ),
              ...(s.shape.granularity ? {granularity: s.shape.granularity} : {}),
              ...(s.shape.format ? {format: s.shape.format} : {}),
              rotation: s.rotation,
              ...(s.replicas.length > 0 ? {replicaRegions: s.replicas.map((region) => ({region}))} : {}),
            },
          }),
      tags: s.wanted.tags,
      ...(s.wanted.kmsKeyId ? {kmsKeyId: s.wanted.kmsKeyId} : {}),
      ...(s.resourcePolicy ? {resourcePolicy: s.resourcePolicy} : {}),
    },
    desired: s.desired,
    snapshotVersion: 2,
    incomplete: s.incomplete,
    settings,
    runtime: recordingRuntime('info'),
    store,
    limiter: {acquire: () => Promise.resolve()},
    connect: () => Promise.resolve({client: aws.client(), accountId: ACCOUNT}),
  })
  return staged.finish(deletionVerdict(staged.deletions, s.maxDeletions))
}

function parsedTemplate(text: string): NameTemplate {
  const parsed = parseNameTemplate(text)
  if (!parsed.ok) throw new Error(parsed.error)
  return parsed.template
}

/** Rotation owns the value (rotation enabled in AWS, the target says skip): secretsync must not touch it. */
const leftToRotation = (s: Scenario, name: string): boolean =>
  s.rotation === 'skip' && s.initial.some((secret) => secret.name === name && secret.rotation === true)

const withoutReplicaFailures = (changes: TargetSyncResult['changes']) =>
  changes.map((change) => (change.error?.includes('replication to ') === true ? {...change, error: null} : change))

/** A desired secret whose wanted replica regions include one where replication fails. */
const replicaFails = (s: Scenario, name: string): boolean =>
  desiredOf(s, name) !== undefined && s.replicas.some((region) => FAILING_REPLICA_REGIONS.has(region))

/**
 * A policy someone else put (no policy tag) on a live secret, other than the target's: the secret is a conflict
 * unless adopting, left alone entirely.
 */
const foreignPolicyBlocks = (s: Scenario, name: string, before: ModelSecret | undefined): boolean =>
  s.resourcePolicy !== undefined &&
  !s.adopt &&
  before !== undefined &&
  !before.deleted &&
  before.policy !== undefined &&
  before.tags[POLICY_TAG] === undefined &&
  policyHash(JSON.parse(before.policy)) !== policyHash(rendered(s.resourcePolicy))

/** The oracle: what each secret must look like after one run, from the scenario alone. */
function check(
  s: Scenario,
  before: Record<string, ModelSecret>,
  after: Record<string, ModelSecret>,
  result: TargetSyncResult,
  deletes: string[],
): void {
  const wantedTags = fullTags(s.wanted)
  const managedBefore = new Set(s.record?.metadata ? Object.keys(s.record.metadata.tags) : [])
  const orphans =
    s.deleteOrphans && s.desired.size > 0
      ? NAMES.filter(
          (name) =>
            pathOf(name) !== undefined &&
            desiredOf(s, name) === undefined &&
            ['owned', 'placeholder-owned'].includes(s.kinds.get(name) ?? '') &&
            !leftToRotation(s, name),
        )
      : []
  const mayDelete = s.incomplete.length === 0 && orphans.length <= s.maxDeletions
  expect(deletes.length, 'deletions never exceed the budget').toBeLessThanOrEqual(s.maxDeletions)
  expect(deletes.sort(), 'exactly the orphans are deleted, and only when allowed').toEqual(
    mayDelete ? [...orphans].sort() : [],
  )
  // Every name the run may touch: the seeded ones and those the shape renders for the desired paths.
  const expected = expectedOf(s)
  for (const name of new Set([...NAMES, ...expected.values.keys(), ...expected.failing])) {
    const kind = s.kinds.get(name)
    const value = desiredOf(s, name)
    const now = after[name]
    const writable =
      kind === undefined ||
      kind === 'owned' ||
      kind === 'deleted-owned' ||
      kind === 'placeholder-owned' ||
      (s.adopt && (kind === 'unowned' || kind === 'deleted-unowned' || kind === 'placeholder-unowned'))
    if (value === undefined || !writable || leftToRotation(s, name) || foreignPolicyBlocks(s, name, before[name])) {
      if (!(mayDelete && orphans.includes(name))) expect(now, `${name} is left alone`).toEqual(before[name])
      continue
    }
    expect(now, `${name} exists`).toBeDefined()
    if (!now) continue
    expect(now.deleted, `${name} is live`).toBe(false)
    const text = now.current === undefined ? undefined : now.versions[now.current]
    if (typeof value === 'string') expect(text, `${name} holds its exact raw value`).toBe(value)
    else expect(text === undefined ? undefined : safeParse(text), `${name} holds its desired value`).toEqual(value)
    for (const [key, tag] of Object.entries(wantedTags)) expect(now.tags[key], `${name} tag ${key}`).toBe(tag)
    const policy = now.policy === undefined ? undefined : (JSON.parse(now.policy) as unknown)
    if (s.resourcePolicy) {
      // Compared by meaning: an equal policy someone else put is kept as it is (and tagged).
      expect(policy && policyHash(policy), `${name} carries the target's resource policy`).toBe(
        policyHash(rendered(s.resourcePolicy)),
      )
      expect(now.tags[POLICY_TAG], `${name} is tagged with it`).toBe(policyHash(rendered(s.resourcePolicy)))
    } else if (before[name]?.tags[POLICY_TAG] !== undefined) {
      expect(now.policy, `${name}: the policy secretsync set is deleted`).toBeUndefined()
      expect(now.tags[POLICY_TAG], `${name}: and its tag`).toBeUndefined()
    } else expect(now.policy, `${name}: a policy secretsync did not set is untouched`).toBe(before[name]?.policy)
    for (const [key, tag] of Object.entries(before[name]?.tags ?? {})) {
      if (key in wantedTags || key === REPLICAS_TAG || key === POLICY_TAG) continue
      if (managedBefore.has(key))
        expect(now.tags[key], `${name}: tag ${key} secretsync set and no longer wants is removed`).toBeUndefined()
      else expect(now.tags[key], `${name}: foreign tag ${key} is kept`).toBe(tag)
    }
    expect(kmsKeyRef(now.kmsKeyId), `${name} KMS key`).toBe(kmsKeyRef(s.wanted.kmsKeyId))
    expect(now.description, `${name} description`).toBe(MANAGED_DESCRIPTION)
    // Replicas: the wanted regions (a failing one reported Failed), unless nothing asks for a change — no
    // replica_regions and no replicas tag: replicas made by hand are not secretsync's to remove.
    const recorded = before[name]?.tags[REPLICAS_TAG] !== undefined
    const replicas = Object.keys(now.replicas ?? {}).sort()
    if (s.replicas.length > 0 || recorded || before[name] === undefined) {
      expect(replicas, `${name} replicas`).toEqual([...s.replicas].sort())
      // The tag records what was requested and did not fail, so a failure is looked at again next run.
      const ok = s.replicas.filter((region) => !FAILING_REPLICA_REGIONS.has(region)).sort()
      expect(now.tags[REPLICAS_TAG], `${name} replicas tag`).toBe(ok.length > 0 ? ok.join(' ') : undefined)
    } else
      expect(replicas, `${name} replicas made by hand are kept`).toEqual(
        Object.keys(before[name]?.replicas ?? {}).sort(),
      )
  }
  for (const change of result.changes) {
    if (change.action === 'conflict') continue
    if (change.held) expect(deletes, 'a held deletion is never applied').not.toContain(change.name)
    else if (expected.failing.has(change.name))
      expect(change.error, `${change.name} is a name AWS rejects: it fails, named`).not.toBeNull()
    else if (change.action !== 'skip' && replicaFails(s, change.name))
      expect(change.error, `${change.name}: its replication to a failing region is reported`).toContain(
        'replication to',
      )
    else expect(change.error, `${change.action} ${change.name} succeeded`).toBeNull()
  }
}

describe('sync plan/apply against a model of Secrets Manager (seeded)', () => {
  it(`converges in one run for ${SEEDS} random states, and a second run plans nothing new`, async () => {
    for (let seed = BASE; seed < BASE + SEEDS; seed++) {
      try {
        const s = scenario(seed)
        const aws = new SecretsManagerModel(s.initial)
        const store = memoryStore(s.record)
        const before = aws.snapshot()
        const plan = await run(s, aws, memoryStore(s.record), true)
        expect(aws.writes, 'a dry run writes nothing').toEqual([])
        const first = await run(s, aws, store)
        // A replication AWS answers Failed is known only once tried: otherwise the plan is what was applied.
        expect(withoutReplicaFailures(first.changes), 'the dry run planned exactly what was applied').toEqual(
          withoutReplicaFailures(plan.changes),
        )
        expect(first.status, first.error ?? '').not.toBe('failed')
        const deletes = aws.writes.filter((w) => w.operation === 'DeleteSecret').map((w) => w.name)
        check(s, before, aws.snapshot(), first, deletes)

        const writes = aws.writes.length
        const second = await run(s, aws, store)
        // Conflicts, rotation skips, held deletions and names AWS rejects are reported on every run; nothing else is.
        const failing = expectedOf(s).failing
        // A Failed replica too: reported (and described) on every run, with nothing written.
        const redo = second.changes.filter(
          (c) =>
            c.action !== 'conflict' &&
            c.action !== 'skip' &&
            !c.held &&
            !failing.has(c.name) &&
            !(replicaFails(s, c.name) && c.error?.includes('replication to') === true && !c.replicas_added),
        )
        expect(redo, 'a second run plans nothing new').toEqual([])
        expect(aws.writes.length, 'and writes nothing').toBe(writes)
      } catch (error) {
        throw new Error(
          `seed ${seed} failed (replay: PLAN_MODEL_SEED=${seed} npx vitest run test/sync/plan-model.test.ts): ${(error as Error).message}`,
          {cause: error},
        )
      }
    }
  })
})
