import {describe, expect, it} from 'vitest'
import type {AppliedRecord} from '../../src/store/index.js'
import {desiredSecret, namesToRead, planTarget, type CurrentSecret, type PlanOptions} from '../../src/sync/plan.js'
import {contentHash, type JsonObject} from '../../src/util/canonical-json.js'

const options = (overrides: Partial<PlanOptions> = {}): PlanOptions => ({target: 't', prefix: '', adopt: false, deleteOrphans: false, maxDeletions: 25, showValues: false, ...overrides})
const owned = (name: string, value: JsonObject | string | undefined, extra: Partial<CurrentSecret> = {}): CurrentSecret => ({name, owned: true, ownerTarget: 't', scheduledForDeletion: false, currentVersionId: `v-${name}`, value, ...extra})
const currentOf = (...secrets: CurrentSecret[]) => new Map(secrets.map((s) => [s.name, s]))
const applied = (entries: Record<string, {value: JsonObject; versionId: string}>): AppliedRecord => ({
  version: 1,
  applied_at: '2026-01-01T00:00:00.000Z',
  secrets: Object.fromEntries(Object.entries(entries).map(([name, e]) => [name, {hash: contentHash(e.value), version_id: e.versionId}])),
})

describe('planTarget', () => {
  it('create: a desired secret that does not exist, all its keys added', () => {
    const plan = planTarget([desiredSecret('app/db', 'prod/', {user: 'u', password: 'p'})], currentOf(), undefined, options({prefix: 'prod/'}))
    expect(plan.changes).toMatchObject([{action: 'create', name: 'prod/app/db', path: 'app/db', keys_added: ['password', 'user'], keys_removed: [], keys_changed: [], error: null, drift: false}])
  })

  it('unchanged via the fast path: recorded hash and AWSCURRENT VersionId match, no value needed', () => {
    const value = {a: 1}
    const desired = [desiredSecret('x', '', value)]
    const current = currentOf(owned('x', undefined, {currentVersionId: 'v1'}))
    const record = applied({x: {value, versionId: 'v1'}})
    expect(namesToRead(desired, current, record, {adopt: false})).toEqual([])
    const plan = planTarget(desired, current, record, options())
    expect(plan.changes).toEqual([])
    expect(plan.unchanged).toEqual([{name: 'x', hash: contentHash(value), versionId: 'v1'}])
  })

  it('unchanged by value: JSON equality ignores key order', () => {
    const plan = planTarget([desiredSecret('x', '', {a: 1, b: {c: 2, d: 3}})], currentOf(owned('x', {b: {d: 3, c: 2}, a: 1})), undefined, options())
    expect(plan.changes).toEqual([])
    expect(plan.unchanged).toHaveLength(1)
  })

  it('update: key-level diff, values masked by default', () => {
    const plan = planTarget([desiredSecret('x', '', {keep: 1, change: 'new', add: true})], currentOf(owned('x', {keep: 1, change: 'old', gone: 0})), undefined, options())
    expect(plan.changes).toHaveLength(1)
    expect(plan.changes[0]).toMatchObject({action: 'update', drift: false, keys_added: ['add'], keys_removed: ['gone'], keys_changed: ['change']})
    expect(plan.changes[0]).not.toHaveProperty('before')
    expect(JSON.stringify(plan.changes[0]?.keys_changed)).not.toContain('new')
  })

  it('update with --show-values carries before and after', () => {
    const plan = planTarget([desiredSecret('x', '', {k: 'new'})], currentOf(owned('x', {k: 'old'})), undefined, options({showValues: true}))
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

  it('conflict: a same-named secret without the ownership tag is never written', () => {
    const plan = planTarget([desiredSecret('x', '', {a: 1})], currentOf({name: 'x', owned: false, scheduledForDeletion: false, currentVersionId: 'v'}), undefined, options())
    expect(plan.changes[0]).toMatchObject({action: 'conflict', error: expect.stringContaining('without the ownership tag') as string})
  })

  it('conflict: a secret owned by another target', () => {
    const plan = planTarget([desiredSecret('x', '', {a: 1})], currentOf(owned('x', undefined, {ownerTarget: 'other'})), undefined, options())
    expect(plan.changes[0]).toMatchObject({action: 'conflict', error: 'managed by secretsync target "other"; two targets write the same secret'})
  })

  it('adopt: an untagged same-named secret becomes an update that tags it', () => {
    const desired = [desiredSecret('x', '', {a: 1})]
    const current = currentOf({name: 'x', owned: false, scheduledForDeletion: false, currentVersionId: 'v', value: {a: 0}})
    expect(namesToRead(desired, current, undefined, {adopt: true})).toEqual(['x'])
    const plan = planTarget(desired, current, undefined, options({adopt: true}))
    expect(plan.changes[0]).toMatchObject({action: 'update', adopt: true, keys_changed: ['a']})
  })

  it('restore: an owned secret scheduled for deletion that is desired again', () => {
    const plan = planTarget([desiredSecret('x', '', {a: 1})], currentOf(owned('x', undefined, {scheduledForDeletion: true})), undefined, options())
    expect(plan.changes[0]).toMatchObject({action: 'restore', keys_added: ['a']})
  })

  it('delete: orphans owned by this target only with delete_orphans', () => {
    const current = currentOf(owned('keep', {a: 1}), owned('orphan', undefined), owned('other-target', undefined, {ownerTarget: 'other'}), {name: 'unowned', owned: false, scheduledForDeletion: false})
    const desired = [desiredSecret('keep', '', {a: 1})]
    expect(planTarget(desired, current, undefined, options()).changes).toEqual([])
    const plan = planTarget(desired, current, undefined, options({deleteOrphans: true}))
    expect(plan.changes.map((c) => [c.action, c.name])).toEqual([['delete', 'orphan']])
  })

  it('an empty desired state never deletes anything', () => {
    const plan = planTarget([], currentOf(owned('orphan', undefined)), undefined, options({deleteOrphans: true}))
    expect(plan.changes).toEqual([])
  })

  it('more orphans than max_deletions: the plan carries an error so nothing is applied', () => {
    const current = currentOf(owned('keep', {a: 1}), owned('o1', undefined), owned('o2', undefined), owned('o3', undefined))
    const plan = planTarget([desiredSecret('keep', '', {a: 1})], current, undefined, options({deleteOrphans: true, maxDeletions: 2}))
    expect(plan.error).toBe('would delete 3 orphaned secrets, more than sync.max_deletions (2); nothing was written for this target')
  })

  it('names at the limit: 512 characters pass, 513 fail that secret only', () => {
    const plan = planTarget([desiredSecret('a'.repeat(512), '', {v: 1}), desiredSecret('b'.repeat(513), '', {v: 1})], currentOf(), undefined, options())
    expect(plan.changes[0]?.error).toBeNull()
    expect(plan.changes[1]?.error).toBe('the secret name is 513 characters; AWS allows at most 512')
  })

  it('values at the limit: 65,536 bytes pass, 65,537 fail', () => {
    // {"v":"…"} adds 8 bytes of JSON around the string; é is two bytes, so bytes are counted, not characters.
    const fits = {v: `${'é'.repeat(32_760)}xxxxxxxx`}
    const over = {v: `${'é'.repeat(32_760)}xxxxxxxxx`}
    expect(Buffer.byteLength(JSON.stringify(fits))).toBe(65_536)
    const plan = planTarget([desiredSecret('fits', '', fits), desiredSecret('over', '', over)], currentOf(), undefined, options())
    expect(plan.changes[0]?.error).toBeNull()
    expect(plan.changes[1]?.error).toBe('the value is 65537 bytes; AWS allows at most 65536')
  })

  it('a bad name character fails that secret with a clear error', () => {
    const plan = planTarget([desiredSecret('app/has space', '', {v: 1})], currentOf(), undefined, options())
    expect(plan.changes[0]?.error).toBe('the secret name may use only A-Z a-z 0-9 / _ + = . @ -')
  })
})
