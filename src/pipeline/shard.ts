import {UsageError} from '../errors.js'

export interface Shard {
  index: number
  count: number
}

type Env = Readonly<Record<string, string | undefined>>

/**
 * `--shard i/n` (env `SECRETSYNC_SHARD`), else `JOB_COMPLETION_INDEX` of n = `SECRETSYNC_SHARDS` (a Kubernetes
 * Indexed Job), else none. Anything else (an index outside 0..n-1, n < 1, a non-integer) is a usage error naming
 * where the bad value came from.
 */
export function resolveShard(flag: string | undefined, env: Env): Shard | undefined {
  if (flag !== undefined) {
    const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(flag)
    if (!match) throw invalidShard(`--shard (SECRETSYNC_SHARD) is "${flag}"`, 'expected i/n, e.g. 0/4')
    return checkedShard(Number(match[1]), Number(match[2]), '--shard (SECRETSYNC_SHARD)')
  }
  const countText = env.SECRETSYNC_SHARDS?.trim()
  if (!countText) return undefined
  const count = wholeNumber(countText)
  if (count === undefined || count < 1)
    throw invalidShard(`SECRETSYNC_SHARDS is "${countText}"`, 'expected a whole number of shards, 1 or more')
  const indexText = env.JOB_COMPLETION_INDEX?.trim()
  if (!indexText)
    throw invalidShard(
      'SECRETSYNC_SHARDS is set but JOB_COMPLETION_INDEX is not',
      'set JOB_COMPLETION_INDEX (Kubernetes does in an Indexed Job) or pass --shard i/n',
    )
  const index = wholeNumber(indexText)
  if (index === undefined) throw invalidShard(`JOB_COMPLETION_INDEX is "${indexText}"`, 'expected a whole number')
  return checkedShard(index, count, `JOB_COMPLETION_INDEX/SECRETSYNC_SHARDS`)
}

const wholeNumber = (text: string): number | undefined => (/^\d+$/.test(text) ? Number(text) : undefined)

function checkedShard(index: number, count: number, source: string): Shard {
  if (count < 1) throw invalidShard(`${source} is ${index}/${count}`, 'the shard count must be 1 or more')
  if (index >= count)
    throw invalidShard(
      `${source} is ${index}/${count}`,
      `the index must be 0..${count - 1}; in a Kubernetes Indexed Job SECRETSYNC_SHARDS must equal completions`,
    )
  return {index, count}
}

const invalidShard = (what: string, expected: string) =>
  new UsageError(`invalid shard: ${what}: ${expected}`, {
    code: 'SHARD_INVALID',
    hint: 'Shards are 0-based: --shard 0/4 … --shard 3/4 together cover every target once.',
  })

/** A target to place on a shard: its name and, when known, its size (secret count). */
export interface ShardItem {
  name: string
  size?: number
}

/**
 * Assigns every target to exactly one of `count` shards, balanced by size: largest first (size, then name, so
 * the order is total), each onto the least loaded shard (lowest index on a tie). Without sizes every target
 * weighs 1, so equal targets end up split by name order and the shards differ by at most one target.
 *
 * The assignment depends on the whole target set, not on one name: each shard process computes it from the same
 * config and discovery result, so every shard of a run must see the same targets (one config, one discovery
 * cache in the merge store). A hash of the name alone would need no agreement, but splits 30 equal targets
 * 11/9/10 and can leave a shard empty while another holds two.
 */
export function assignShards(items: readonly ShardItem[], count: number): Map<string, number> {
  const weighted = items.map((item) => ({name: item.name, size: Math.max(1, item.size ?? 1)}))
  weighted.sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const load = Array.from({length: count}, () => ({size: 0, targets: 0}))
  const assignment = new Map<string, number>()
  for (const item of weighted) {
    if (assignment.has(item.name)) continue
    let best = 0
    for (let shard = 1; shard < count; shard++) {
      const candidate = load[shard] as {size: number; targets: number}
      const current = load[best] as {size: number; targets: number}
      if (candidate.size < current.size || (candidate.size === current.size && candidate.targets < current.targets))
        best = shard
    }
    const chosen = load[best] as {size: number; targets: number}
    chosen.size += item.size
    chosen.targets += 1
    assignment.set(item.name, best)
  }
  return assignment
}
