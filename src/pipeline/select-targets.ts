import {didYouMean} from '../config/did-you-mean.js'
import {UsageError} from '../errors.js'
import type {TargetGraph} from '../graph/target-graph.js'
import {assignShards, type Shard} from './shard.js'

/** `--targets a,b` → the names as written (trimmed, empty entries dropped), parsed in this one place. */
export const parseTargetNames = (requested: string | undefined): string[] =>
  (requested ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)

/** `--targets a,b` → those targets plus what they import, in topological order; unknown names are usage errors. */
export function selectTargets(graph: TargetGraph, requested: string | undefined, flag = '--targets'): string[] {
  const names = parseTargetNames(requested)
  if (names.length === 0) return [...graph.order]
  const unknown = names.filter((name) => !graph.isTarget(name))
  if (unknown.length > 0) {
    const hints = unknown.map((name) => `"${name}"${didYouMean(name, graph.order)}`)
    throw new UsageError(`${flag} names unknown target${unknown.length > 1 ? 's' : ''}: ${hints.join(', ')}`, {
      code: 'TARGET_UNKNOWN',
      hint: `Known targets: ${graph.order.join(', ') || '(none)'}. Run \`secretsync graph\` to see them.`,
    })
  }
  return graph.withDependencies(names)
}

/**
 * The targets a pipeline run syncs and the ones it merges: --targets (with imports), narrowed to the one named
 * target for --version N (its imports are already merged into it and keep their own snapshots), then to this
 * shard. A shard still merges what its targets import: their desired state is built from it.
 */
export function runTargets(
  graph: TargetGraph,
  options: {
    targets?: string
    targetNames: readonly string[]
    version?: number
    shard?: Shard
    /** Secret counts per target where known, to balance the shards by size (else every target weighs 1). */
    sizes?: ReadonlyMap<string, number>
  },
): {sync: string[]; merge: string[]} {
  const requested = selectTargets(graph, options.targets)
  const selected =
    options.version === undefined ? requested : requested.filter((name) => options.targetNames.includes(name))
  const {shard} = options
  if (!shard) return {sync: selected, merge: selected}
  const assignment = assignShards(
    selected.map((name) => ({name, size: options.sizes?.get(name)})),
    shard.count,
  )
  const sync = selected.filter((name) => assignment.get(name) === shard.index)
  return {sync, merge: graph.withDependencies(sync)}
}
