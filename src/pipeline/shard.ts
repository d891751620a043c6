import {createHash} from 'node:crypto'
import {UsageError} from '../errors.js'

export interface Shard {
  index: number
  count: number
}

/**
 * `--shard i/n`, else `JOB_COMPLETION_INDEX` of n = `SECRETSYNC_SHARDS` (a Kubernetes Indexed Job), else none.
 */
export function resolveShard(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Shard | undefined {
  const text =
    flag ?? (env.SECRETSYNC_SHARDS ? `${env.JOB_COMPLETION_INDEX ?? ''}/${env.SECRETSYNC_SHARDS}` : undefined)
  if (text === undefined) return undefined
  const match = /^(\d+)\/(\d+)$/.exec(text.trim())
  const index = Number(match?.[1])
  const count = Number(match?.[2])
  if (!match || count < 1 || index >= count) {
    throw new UsageError(
      `invalid shard "${text}": expected i/n with 0 <= i < n (from --shard, or JOB_COMPLETION_INDEX and SECRETSYNC_SHARDS)`,
      {code: 'SHARD_INVALID'},
    )
  }
  return {index, count}
}

/** A target's shard depends only on its name, so every shard of a run agrees without coordination. */
export const shardOf = (name: string, count: number): number =>
  createHash('sha256').update(name).digest().readUInt32BE(0) % count
