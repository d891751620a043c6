import {didYouMean} from '../config/did-you-mean.js'

export interface GraphTargetInput {
  name: string
  imports: readonly string[]
}

export interface GraphIssue {
  code: 'TARGET_DUPLICATE' | 'IMPORT_UNKNOWN' | 'IMPORT_SELF' | 'IMPORT_DUPLICATE' | 'TARGET_CYCLE'
  /** Index of the target the issue is about, in input order. */
  targetIndex: number
  /** Index within that target's imports, when the issue is about one import. */
  importIndex?: number
  message: string
}

export interface TargetGraph {
  /** Sources by name, in config order. */
  sources: readonly string[]
  /** Target names level by level: level 0 imports only sources; level n imports targets of lower levels. */
  levels: ReadonlyArray<readonly string[]>
  /** Every target in topological order (level by level, config order within a level). */
  order: readonly string[]
  levelOf(target: string): number
  importsOf(target: string): readonly string[]
  isTarget(name: string): boolean
  /** The named targets plus every target they import, transitively, in topological order. */
  withDependencies(targets: readonly string[]): string[]
  /** Every source the target reads, directly or through imported targets. */
  sourcesOf(target: string): string[]
}

export type BuildGraphResult = {ok: true; graph: TargetGraph} | {ok: false; issues: GraphIssue[]}

/**
 * Builds the import graph of targets over sources. Reports every duplicate, unknown, self and repeated
 * import, and each cycle once with its path (`a -> b -> a`); a graph with issues has no order.
 */
export function buildTargetGraph(sources: readonly string[], targets: readonly GraphTargetInput[]): BuildGraphResult {
  const issues: GraphIssue[] = []
  const sourceSet = new Set(sources)
  const indexByName = new Map<string, number>()
  targets.forEach((target, index) => {
    if (indexByName.has(target.name) || sourceSet.has(target.name)) {
      const other = sourceSet.has(target.name) ? 'a vault source' : `targets[${indexByName.get(target.name)}]`
      issues.push({
        code: 'TARGET_DUPLICATE',
        targetIndex: index,
        message: `duplicate name "${target.name}": ${other} already has it`,
      })
    } else {
      indexByName.set(target.name, index)
    }
  })
  const known = [...sources, ...indexByName.keys()]
  targets.forEach((target, index) => {
    const seen = new Set<string>()
    target.imports.forEach((name, importIndex) => {
      const at = {targetIndex: index, importIndex}
      if (name === target.name)
        issues.push({code: 'IMPORT_SELF', ...at, message: `target "${target.name}" imports itself`})
      else if (!sourceSet.has(name) && !indexByName.has(name))
        issues.push({
          code: 'IMPORT_UNKNOWN',
          ...at,
          message: `unknown import "${name}": no vault source or target has that name${didYouMean(name, known)}`,
        })
      else if (seen.has(name)) issues.push({code: 'IMPORT_DUPLICATE', ...at, message: `"${name}" is imported twice`})
      seen.add(name)
    })
  })
  if (issues.length > 0) return {ok: false, issues}

  const targetImports = (name: string): string[] =>
    (targets[indexByName.get(name) as number]?.imports ?? []).filter((imported) => indexByName.has(imported))
  const cycles = findCycles([...indexByName.keys()], targetImports)
  for (const cycle of cycles) {
    const first = cycle[0] as string
    issues.push({
      code: 'TARGET_CYCLE',
      targetIndex: indexByName.get(first) as number,
      message: `import cycle: ${[...cycle, first].join(' -> ')}`,
    })
  }
  if (issues.length > 0) return {ok: false, issues}

  const level = new Map<string, number>()
  const levelOfName = (name: string): number => {
    const cached = level.get(name)
    if (cached !== undefined) return cached
    const value = Math.max(-1, ...targetImports(name).map(levelOfName)) + 1
    level.set(name, value)
    return value
  }
  const levels: string[][] = []
  for (const target of targets) (levels[levelOfName(target.name)] ??= []).push(target.name)
  const order = levels.flat()

  const graph: TargetGraph = {
    sources,
    levels,
    order,
    levelOf: (name) => level.get(name) ?? -1,
    importsOf: (name) => targets[indexByName.get(name) ?? -1]?.imports ?? [],
    isTarget: (name) => indexByName.has(name),
    withDependencies(names) {
      const wanted = new Set<string>()
      const add = (name: string): void => {
        if (wanted.has(name)) return
        wanted.add(name)
        targetImports(name).forEach(add)
      }
      names.forEach(add)
      return order.filter((name) => wanted.has(name))
    },
    sourcesOf(name) {
      const found = new Set<string>()
      for (const dependency of graph.withDependencies([name])) {
        for (const imported of graph.importsOf(dependency)) if (sourceSet.has(imported)) found.add(imported)
      }
      return sources.filter((source) => found.has(source))
    },
  }
  return {ok: true, graph}
}

/** Each elementary cycle reachable by DFS, reported once, starting from its first node in input order. */
function findCycles(names: readonly string[], edges: (name: string) => readonly string[]): string[][] {
  const state = new Map<string, 'visiting' | 'done'>()
  const stack: string[] = []
  const cycles: string[][] = []
  const seen = new Set<string>()
  const visit = (name: string): void => {
    state.set(name, 'visiting')
    stack.push(name)
    for (const next of edges(name)) {
      if (state.get(next) === 'visiting') {
        const cycle = stack.slice(stack.indexOf(next))
        const key = [...cycle].sort().join('\0')
        if (!seen.has(key)) {
          seen.add(key)
          cycles.push(cycle)
        }
      } else if (!state.has(next)) {
        visit(next)
      }
    }
    stack.pop()
    state.set(name, 'done')
  }
  for (const name of names) if (!state.has(name)) visit(name)
  return cycles
}
