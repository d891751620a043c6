import {describe, expect, it} from 'vitest'
import type {AppliedRecord} from '../../src/store/index.js'
import {desiredMetadata, MANAGED_DESCRIPTION} from '../../src/sync/metadata.js'
import {desiredSecret, namesToRead, planTarget, type CurrentSecret, type PlanOptions} from '../../src/sync/plan.js'
import {contentHash, type JsonObject} from '../../src/util/canonical-json.js'

const META = desiredMetadata({target: 't', ownership: {key: 'managed-by', value: 'secretsync'}, tags: {team: 'a'}})
const options = (overrides: Partial<PlanOptions> = {}): PlanOptions => ({
  target: 't',
  prefix: '',
  adopt: false,
  deleteOrphans: false,
  showValues: false,
  metadata: META,
  incomplete: [],
  ...overrides,
})
const owned = (
  name: string,
  value: JsonObject | string | undefined,
  extra: Partial<CurrentSecret> = {},
): CurrentSecret => ({
  name,
  owned: true,
  ownerTarget: 't',
  scheduledForDeletion: false,
  currentVersionId: `v-${name}`,
  metadata: META,
  value,
  ...extra,
})
const unowned = (name: string, extra: Partial<CurrentSecret> = {}): CurrentSecret => ({
  name,
  owned: false,
  scheduledForDeletion: false,
  currentVersionId: `v-${name}`,
  metadata: {tags: {}},
  ...extra,
})
const currentOf = (...secrets: CurrentSecret[]) => new Map(secrets.map((s) => [s.name, s]))
const applied = (entries: Record<string, {value: JsonObject; versionId: string}>): AppliedRecord => ({
  version: 1,
  applied_at: '2026-01-01T00:00:00.000Z',
  secrets: Object.fromEntries(
    Object.entries(entries).map(([name, e]) => [name, {hash: contentHash(e.value), version_id: e.versionId}]),
  ),
})

describe('planTarget', () => {
  it('create: a desired secret that does not exist, all its keys added', () => {
    const plan = planTarget(
      [desiredSecret('app/db', 'prod/', {user: 'u', password: 'p'})],
      currentOf(),
      undefined,
      options({prefix: 'prod/'}),
    )
    expect(plan.changes).toMatchObject([
      {
        action: 'create',
        name: 'prod/app/db',
        path: 'app/db',
        keys_added: ['password', 'user'],
        keys_removed: [],
        keys_changed: [],
        error: null,
        drift: false,
      },
    ])
  })

  it('unchanged via the fast path: recorded hash and AWSCURRENT VersionId match, no value needed', () => {
    const value = {a: 1}
    const desired = [desiredSecret('x', '', value)]
    const current = currentOf(owned('x', undefined, {currentVersionId: 'v1'}))
    const record = applied({x: {value, versionId: 'v1'}})
    expect(namesToRead(desired, current, record, {adopt: false, target: 't'})).toEqual([])
    const plan = planTarget(desired, current, record, options())
    expect(plan.changes).toEqual([])
    expect(plan.unchanged).toEqual([{name: 'x', hash: contentHash(value), versionId: 'v1'}])
  })

  it('unchanged by value: JSON equality ignores key order', () => {
    const plan = planTarget(
      [desiredSecret('x', '', {a: 1, b: {c: 2, d: 3}})],
      currentOf(owned('x', {b: {d: 3, c: 2}, a: 1})),
      undefined,
      options(),
    )
    expect(plan.changes).toEqual([])
    expect(plan.unchanged).toHaveLength(1)
  })

  it('update: key-level diff, values masked by default', () => {
    const plan = planTarget(
      [desiredSecret('x', '', {keep: 1, change: 'new', add: true})],
      currentOf(owned('x', {keep: 1, change: 'old', gone: 0})),
      undefined,
      options(),
    )
    expect(plan.changes).toHaveLength(1)
    expect(plan.changes[0]).toMatchObject({
      action: 'update',
      drift: false,
      keys_added: ['add'],
      keys_removed: ['gone'],
      keys_changed: ['change'],
    })
    expect(plan.changes[0]).not.toHaveProperty('before')
    expect(JSON.stringify(plan.changes[0]?.keys_changed)).not.toContain('new')
  })

  it('update with --show-values carries before and after', () => {
    const plan = planTarget(
      [desiredSecret('x', '', {k: 'new'})],
      currentOf(owned('x', {k: 'old'})),
      undefined,
      options({showValues: true}),
    )
    expect(plan.changes[0]).toMatchObject({before: {k: 'old'}, after: {k: 'new'}})
  })

  it('drift: AWSCURRENT moved and the value differs from what secretsync last wrote', () => {
    const desired = [desiredSecret('x', '', {k: 'mine'})]
    const current = currentOf(owned('x', {k: 'edited in console'}, {currentVersionId: 'v2'}))
    const plan = planTarget(desired, current, applied({x: {value: {k: 'mine'}, versionId: 'v1'}}), options())
    expect(plan.changes[0]).toMatchObject({action: 'update', drift: true, keys_changed: ['k']})
  })

  it('no drift when the desired value changed but AWS still holds what secretsync wrote', () => {
    const desired = [desiredSecret('x', '', {k: 'next'})]
    const current = currentOf(owned('x', {k: 'mine'}, {currentVersionId: 'v1'}))
    const plan = planTarget(desired, current, applied({x: {value: {k: 'mine'}, versionId: 'v1'}}), options())
    expect(plan.changes[0]).toMatchObject({action: 'update', drift: false})
  })

  it('conflict: a same-named secret without the ownership tag is never written, nor its value read', () => {
    expect(
      namesToRead([desiredSecret('x', '', {a: 1})], currentOf(unowned('x')), undefined, {adopt: false, target: 't'}),
    ).toEqual([])
    const plan = planTarget([desiredSecret('x', '', {a: 1})], currentOf(unowned('x')), undefined, options())
    expect(plan.changes[0]).toMatchObject({
      action: 'conflict',
      error: expect.stringContaining('without the ownership tag') as string,
    })
  })

  it('a replica of a primary in another region is not read: it is a conflict from the listing alone', () => {
    const desired = [desiredSecret('x', '', {a: 1})]
    const current = currentOf(owned('x', {a: 0}, {currentVersionId: 'v1', primaryRegion: 'eu-west-1'}))
    const scope = {adopt: false, target: 't', region: 'us-east-1'}
    expect(namesToRead(desired, current, undefined, scope)).toEqual([])
    expect(namesToRead(desired, current, undefined, {...scope, region: 'eu-west-1'})).toEqual(['x'])
  })

  it('conflict: a secret owned by another target', () => {
    const desired = [desiredSecret('x', '', {a: 1})]
    const current = currentOf(owned('x', {a: 0}, {ownerTarget: 'other'}))
    // Decided from the listing's tags: the other target's value is never read, with or without adopt.
    expect(namesToRead(desired, current, undefined, {adopt: false, target: 't'})).toEqual([])
    expect(namesToRead(desired, current, undefined, {adopt: true, target: 't'})).toEqual([])
    const plan = planTarget(desired, current, undefined, options())
    expect(plan.changes[0]).toMatchObject({
      action: 'conflict',
      error: 'managed by secretsync target "other"; two targets write the same secret',
    })
  })

  it('adopt: an untagged same-named secret becomes an update that tags it', () => {
    const desired = [desiredSecret('x', '', {a: 1})]
    const current = currentOf(unowned('x', {value: {a: 0}}))
    expect(namesToRead(desired, current, undefined, {adopt: true, target: 't'})).toEqual(['x'])
    const plan = planTarget(desired, current, undefined, options({adopt: true, target: 't'}))
    expect(plan.changes[0]).toMatchObject({
      action: 'update',
      keys_changed: ['a'],
      tags_added: ['managed-by', 'secretsync:target', 'team'],
      description_changed: true,
      writeValue: true,
    })
    expect(plan.changes[0]?.metadataWrites?.tag).toEqual({
      'managed-by': 'secretsync',
      'secretsync:target': 't',
      team: 'a',
    })
  })

  it('restore: an owned secret scheduled for deletion that is desired again', () => {
    const plan = planTarget(
      [desiredSecret('x', '', {a: 1})],
      currentOf(owned('x', undefined, {scheduledForDeletion: true})),
      undefined,
      options(),
    )
    expect(plan.changes[0]).toMatchObject({action: 'restore', keys_added: ['a']})
  })

  it('delete: orphans owned by this target only with delete_orphans', () => {
    const current = currentOf(
      owned('keep', {a: 1}),
      owned('orphan', undefined),
      owned('other-target', undefined, {ownerTarget: 'other'}),
      unowned('unowned'),
    )
    const desired = [desiredSecret('keep', '', {a: 1})]
    expect(planTarget(desired, current, undefined, options()).changes).toEqual([])
    const plan = planTarget(desired, current, undefined, options({deleteOrphans: true}))
    expect(plan.changes.map((c) => [c.action, c.name])).toEqual([['delete', 'orphan']])
  })

  it('an empty desired state never deletes anything', () => {
    const plan = planTarget([], currentOf(owned('orphan', undefined)), undefined, options({deleteOrphans: true}))
    expect(plan.changes).toEqual([])
  })

  it('held deletions: while the desired state may be incomplete, orphans are listed as held with the reason', () => {
    const current = currentOf(owned('keep', {a: 1}), owned('o1', undefined), owned('o2', undefined))
    const reason = 'source base: folder secret/base/team/ answered 403 (permission denied); 1 folder not walked'
    const plan = planTarget(
      [desiredSecret('keep', '', {a: 1}), desiredSecret('new', '', {b: 2})],
      current,
      undefined,
      options({deleteOrphans: true, incomplete: [reason]}),
    )
    expect(plan.changes.map((c) => [c.action, c.name, c.held])).toEqual([
      ['create', 'new', false],
      ['delete', 'o1', true],
      ['delete', 'o2', true],
    ])
    expect(plan.changes[1]?.error).toBe(
      `held: the desired state may be incomplete (${reason}); orphans are deleted only after a complete walk`,
    )
    expect(plan.changes[0]?.error).toBeNull()
  })

  it('names at the limit: 512 characters pass, 513 fail that secret only', () => {
    const plan = planTarget(
      [desiredSecret('a'.repeat(512), '', {v: 1}), desiredSecret('b'.repeat(513), '', {v: 1})],
      currentOf(),
      undefined,
      options(),
    )
    expect(plan.changes[0]?.error).toBeNull()
    expect(plan.changes[1]?.error).toBe('the secret name is 513 characters; AWS allows at most 512')
  })

  it('values at the limit: 65,536 bytes pass, 65,537 fail', () => {
    // {"v":"…"} adds 8 bytes of JSON around the string; é is two bytes, so bytes are counted, not characters.
    const fits = {v: `${'é'.repeat(32_760)}xxxxxxxx`}
    const over = {v: `${'é'.repeat(32_760)}xxxxxxxxx`}
    expect(Buffer.byteLength(JSON.stringify(fits))).toBe(65_536)
    const plan = planTarget(
      [desiredSecret('fits', '', fits), desiredSecret('over', '', over)],
      currentOf(),
      undefined,
      options(),
    )
    expect(plan.changes[0]?.error).toBeNull()
    expect(plan.changes[1]?.error).toBe('the value is 65537 bytes; AWS allows at most 65536')
  })

  it('a bad name character fails that secret with a clear error', () => {
    const plan = planTarget([desiredSecret('app/has space', '', {v: 1})], currentOf(), undefined, options())
    expect(plan.changes[0]?.error).toBe('the secret name may use only A-Z a-z 0-9 / _ + = . @ -')
  })
})

describe('planTarget: metadata is desired state', () => {
  const value = {a: 1}
  const inSync = (extra: Partial<CurrentSecret> = {}) =>
    currentOf(owned('x', undefined, {currentVersionId: 'v1', ...extra}))
  const record = (
    metadata = {
      tags: {...META.tags},
      kms_key_id: null as string | null,
      description: MANAGED_DESCRIPTION as string | null,
    },
  ): AppliedRecord => ({...applied({x: {value, versionId: 'v1'}}), metadata})

  it('a changed target tag is a metadata-only update: tags_changed, no new value version', () => {
    const plan = planTarget(
      [desiredSecret('x', '', value)],
      inSync(),
      record(),
      options({metadata: {...META, tags: {...META.tags, team: 'b'}}}),
    )
    expect(plan.changes).toMatchObject([
      {
        action: 'update',
        keys_added: [],
        keys_changed: [],
        tags_changed: ['team'],
        kms_key_changed: false,
        drift: false,
        writeValue: false,
        metadataWrites: {tag: {team: 'b'}, untag: []},
      },
    ])
  })

  it('a new kms_key_id is a key change written with UpdateSecret; the same key as an ARN is no change', () => {
    const wanted = options({metadata: {...META, kmsKeyId: 'alias/team-key'}})
    const plan = planTarget([desiredSecret('x', '', value)], inSync(), record(), wanted)
    expect(plan.changes).toMatchObject([
      {action: 'update', kms_key_changed: true, metadataWrites: {kmsKeyId: 'alias/team-key'}},
    ])
    const asArn = inSync({metadata: {...META, kmsKeyId: 'arn:aws:kms:us-east-1:111111111111:alias/team-key'}})
    expect(planTarget([desiredSecret('x', '', value)], asArn, record(), wanted).changes).toEqual([])
  })

  it('the default key: unset, alias/aws/secretsmanager and its ARN are all the same key', () => {
    const current = inSync({
      metadata: {...META, kmsKeyId: 'arn:aws:kms:us-east-1:111111111111:alias/aws/secretsmanager'},
    })
    expect(planTarget([desiredSecret('x', '', value)], current, record(), options()).changes).toEqual([])
  })

  it('a tag dropped from the config is removed only because the record says secretsync set it; foreign tags stay', () => {
    const current = inSync({metadata: {...META, tags: {...META.tags, old: '1', theirs: 'keep'}}})
    const previous = record({tags: {...META.tags, old: '1'}, kms_key_id: null, description: MANAGED_DESCRIPTION})
    const plan = planTarget([desiredSecret('x', '', value)], current, previous, options())
    expect(plan.changes).toMatchObject([
      {action: 'update', tags_removed: ['old'], metadataWrites: {tag: {}, untag: ['old']}},
    ])
    // Without a record nothing is known to be secretsync's: nothing is removed.
    const read = currentOf({...(current.get('x') as CurrentSecret), value})
    expect(planTarget([desiredSecret('x', '', value)], read, undefined, options()).changes).toEqual([])
  })

  it('metadata drift: a tag secretsync set was edited outside it', () => {
    const current = inSync({metadata: {...META, tags: {...META.tags, team: 'edited'}}})
    const plan = planTarget([desiredSecret('x', '', value)], current, record(), options())
    expect(plan.changes).toMatchObject([{action: 'update', drift: true, tags_changed: ['team']}])
  })

  it('in sync by value and metadata: unchanged from the listing alone', () => {
    const plan = planTarget([desiredSecret('x', '', value)], inSync(), record(), options())
    expect(plan.changes).toEqual([])
    expect(plan.unchanged).toHaveLength(1)
  })
})

describe('planTarget: a secret without a current version', () => {
  it('owned: its value is written (PutSecretValue), nothing needs reading', () => {
    const desired = [desiredSecret('x', '', {a: 1})]
    const current = currentOf(owned('x', undefined, {currentVersionId: undefined}))
    expect(namesToRead(desired, current, undefined, {adopt: false, target: 't'})).toEqual([])
    expect(planTarget(desired, current, undefined, options()).changes).toMatchObject([
      {action: 'update', keys_added: ['a'], writeValue: true, error: null},
    ])
  })

  it('not owned: a conflict, nothing written', () => {
    const plan = planTarget(
      [desiredSecret('x', '', {a: 1})],
      currentOf(unowned('x', {currentVersionId: undefined})),
      undefined,
      options(),
    )
    expect(plan.changes).toMatchObject([
      {action: 'conflict', error: expect.stringContaining('without the ownership tag') as string},
    ])
  })

  it('a value that could not be read fails that secret alone', () => {
    const current = currentOf(
      owned('x', undefined, {readError: 'BatchGetSecretValue: DecryptionFailure'}),
      owned('y', {b: 1}),
    )
    const plan = planTarget(
      [desiredSecret('x', '', {a: 1}), desiredSecret('y', '', {b: 2})],
      current,
      undefined,
      options(),
    )
    expect(plan.changes.map((c) => [c.name, c.error])).toEqual([
      ['x', 'could not read the current value: BatchGetSecretValue: DecryptionFailure'],
      ['y', null],
    ])
  })
})
