import {ConfigError} from '../errors.js'
import {buildTargetGraph, type TargetGraph} from '../graph/target-graph.js'
import {loadConfig, type LoadConfigOptions, type LoadedConfig} from './load.js'

export * from './schema.js'
export {loadConfig, parseConfig, type LoadedConfig} from './load.js'

export interface ProjectResult extends LoadedConfig {
  graph: TargetGraph
}

/** Loads the config and builds its target graph; both are validated, so the graph always builds here. */
export async function loadProject(file: string, options: LoadConfigOptions): Promise<ProjectResult> {
  const loaded = await loadConfig(file, options)
  const sources = loaded.config.vault_sources.map((source) => source.name)
  const names = new Set([...sources, ...loaded.config.targets.map((target) => target.name)])
  // Before discovery runs, imports of discovered targets are left out of the static graph.
  const result = buildTargetGraph(
    sources,
    loaded.config.targets.map((target) => ({
      name: target.name,
      imports: target.imports.filter((name) => names.has(name)),
    })),
  )
  if (!result.ok) {
    throw new ConfigError(
      result.issues.map((issue) => ({file, path: `targets[${issue.targetIndex}]`, message: issue.message})),
    )
  }
  return {...loaded, graph: result.graph}
}
