import {didYouMean} from '../config/did-you-mean.js'
import {UsageError} from '../errors.js'
import type {TargetGraph} from '../graph/target-graph.js'

/** `--targets a,b` → those targets plus what they import, in topological order; unknown names are usage errors. */
export function selectTargets(graph: TargetGraph, requested: string | undefined, flag = '--targets'): string[] {
  if (requested === undefined || requested.trim() === '') return [...graph.order]
  const names = requested.split(',').map((name) => name.trim()).filter(Boolean)
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
