import type {LimitFunction} from 'p-limit'
import type {TargetGraph} from './target-graph.js'

/**
 * Runs `work` for each of `names` level by level (graph.levels): a level starts once every target of the levels
 * below is done, so a target's imports are always finished before it; within a level, as many at once as `limit`
 * lets through. Levels in order, config order within a level.
 */
export async function forEachByLevel(
  graph: TargetGraph,
  names: readonly string[],
  limit: LimitFunction,
  work: (name: string) => Promise<void>,
): Promise<void> {
  const wanted = new Set(names)
  for (const level of graph.levels) {
    await Promise.all(level.filter((name) => wanted.has(name)).map((name) => limit(() => work(name))))
  }
}
