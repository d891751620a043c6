import {describe, expect, it} from 'vitest'
import {SecretSyncError} from '../../src/errors.js'
import {assignShards, resolveShard, type ShardItem} from '../../src/pipeline/shard.js'
import {seededRandom} from '../support/controls.js'

const names = (n: number) => Array.from({length: n}, (_, i) => ({name: `target-${String(i).padStart(2, '0')}`}))

/** How many targets (or how much size) each shard got. */
function perShard(assignment: Map<string, number>, count: number, sizes?: Map<string, number>): number[] {
  const totals = Array.from({length: count}, () => 0)
  for (const [name, shard] of assignment) totals[shard] = (totals[shard] ?? 0) + (sizes?.get(name) ?? 1)
  return totals
}

describe('assignShards', () => {
  it('splits 30 equal targets 10/10/10 and 2 targets over 3 shards 1/1/0', () => {
    expect(perShard(assignShards(names(30), 3), 3)).toEqual([10, 10, 10])
    expect(perShard(assignShards(names(2), 3), 3)).toEqual([1, 1, 0])
  })

  it('balances by secret count: one large target gets a shard of its own', () => {
    // Given one target with 900 secrets and six with 100 each
    const items: ShardItem[] = [{name: 'big', size: 900}, ...names(6).map((t) => ({...t, size: 100}))]
    const sizes = new Map(items.map((t) => [t.name, t.size ?? 1]))

    const assignment = assignShards(items, 2)

    // Then the big one is alone and the six small ones share the other shard
    expect(perShard(assignment, 2, sizes)).toEqual([900, 600])
    expect([...assignment].filter(([, shard]) => shard === assignment.get('big'))).toHaveLength(1)
  })

  it('does not depend on the order the targets are listed in', () => {
    const items = names(17).map((t, i) => ({...t, size: (i * 7) % 5}))
    const reversed = [...items].reverse()
    expect([...assignShards(reversed, 4)].sort()).toEqual([...assignShards(items, 4)].sort())
  })

  it('puts every target in exactly one shard, with shards within one target (equal) or one largest item (sized)', () => {
    const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31))
    const random = seededRandom(seed)
    try {
      for (let round = 0; round < 200; round++) {
        const count = 1 + Math.floor(random() * 8)
        const n = Math.floor(random() * 40)
        const sized = random() < 0.5
        const items: ShardItem[] = names(n).map((t) => (sized ? {...t, size: 1 + Math.floor(random() * 500)} : t))
        const assignment = assignShards(items, count)

        // Every target exactly once, on a shard that exists
        expect([...assignment.keys()].sort()).toEqual(items.map((t) => t.name).sort())
        for (const shard of assignment.values()) expect(shard).toBeGreaterThanOrEqual(0)
        for (const shard of assignment.values()) expect(shard).toBeLessThan(count)
        // The union of the shards' selections is the whole set, with no overlap
        const selections = Array.from({length: count}, (_, i) => items.filter((t) => assignment.get(t.name) === i))
        expect(selections.flat().length).toBe(n)

        // Greedy largest-first: no shard exceeds the lightest by more than the largest item
        const sizes = new Map(items.map((t) => [t.name, t.size ?? 1]))
        const totals = perShard(assignment, count, sizes)
        const largest = Math.max(0, ...sizes.values())
        expect(Math.max(...totals) - Math.min(...totals)).toBeLessThanOrEqual(largest)
      }
    } catch (error) {
      throw new Error(`seed ${seed} failed (replay with SEED=${seed}): ${(error as Error).message}`, {cause: error})
    }
  })
})

describe('resolveShard', () => {
  const usageError = (run: () => unknown): SecretSyncError => {
    try {
      run()
    } catch (error) {
      return error as SecretSyncError
    }
    throw new Error('expected a usage error')
  }

  it('reads --shard i/n, else JOB_COMPLETION_INDEX of SECRETSYNC_SHARDS, else none', () => {
    expect(resolveShard('1/4', {})).toEqual({index: 1, count: 4})
    expect(resolveShard(undefined, {SECRETSYNC_SHARDS: '3', JOB_COMPLETION_INDEX: '2'})).toEqual({
      index: 2,
      count: 3,
    })
    expect(resolveShard(undefined, {JOB_COMPLETION_INDEX: '2'})).toBeUndefined()
  })

  it.each([
    ['4/4', {}, '--shard (SECRETSYNC_SHARD)'],
    ['0/0', {}, '--shard (SECRETSYNC_SHARD)'],
    ['1.5/4', {}, '--shard (SECRETSYNC_SHARD)'],
    ['-1/4', {}, '--shard (SECRETSYNC_SHARD)'],
    [undefined, {SECRETSYNC_SHARDS: '4', JOB_COMPLETION_INDEX: '4'}, 'JOB_COMPLETION_INDEX/SECRETSYNC_SHARDS'],
    [undefined, {SECRETSYNC_SHARDS: '0', JOB_COMPLETION_INDEX: '0'}, 'SECRETSYNC_SHARDS'],
    [undefined, {SECRETSYNC_SHARDS: '2.5', JOB_COMPLETION_INDEX: '0'}, 'SECRETSYNC_SHARDS'],
    [undefined, {SECRETSYNC_SHARDS: '4'}, 'JOB_COMPLETION_INDEX'],
    [undefined, {SECRETSYNC_SHARDS: '4', JOB_COMPLETION_INDEX: 'x'}, 'JOB_COMPLETION_INDEX'],
  ])('refuses %s %o as a usage error (exit 2) naming %s', (flag, env, named) => {
    const error = usageError(() => resolveShard(flag, env))
    expect(error).toMatchObject({code: 'SHARD_INVALID', exitCode: 2})
    expect(error.message).toContain(named)
  })
})
