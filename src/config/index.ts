import {ConfigError} from '../errors.js'
import {buildTargetGraph, type TargetGraph} from '../graph/target-graph.js'
import {loadConfig, type LoadConfigOptions, type LoadedConfig} from './load.js'

export * from './schema.js'
export {loadConfig, parseConfig, type LoadedConfig} from './load.js'

export interface ProjectResult extends LoadedConfig {
  graph: TargetGraph
}

/** Loads the config and builds its target graph; both are validated, so the graph always builds here. */
export async function loadProject(file: string, options: LoadConfigOptions = {}): Promise<ProjectResult> {
  const loaded = await loadConfig(file, options)
  const result = buildTargetGraph(
    loaded.config.vault_sources.map((source) => source.name),
    loaded.config.targets,
  )
  if (!result.ok) {
    throw new ConfigError(result.issues.map((issue) => ({file, path: `targets[${issue.targetIndex}]`, message: issue.message})))
  }
  return {...loaded, graph: result.graph}
}
