import {buildTargetGraph} from '../graph/target-graph.js'
import type {KeyPath} from './locate.js'
import {checkNameTemplates} from './name-templates.js'
import {checkReplicaRegions} from './replica-regions.js'
import type {Config} from './schema.js'
import type {SemanticIssue} from './target-sites.js'

export type {SemanticIssue} from './target-sites.js'

/**
 * Checks that span sections and cannot be expressed per field: unique source names, the target graph
 * (unknown/self/duplicate imports, cycles), the sections a setting needs, and AWS name rules for prefixes.
 */
export function checkConfigSemantics(config: Config): SemanticIssue[] {
  const issues: SemanticIssue[] = []
  const sourceIndex = new Map<string, number>()
  config.vault_sources.forEach((source, index) => {
    const previous = sourceIndex.get(source.name)
    if (previous !== undefined) {
      issues.push({
        path: ['vault_sources', index, 'name'],
        message: `duplicate source name "${source.name}" (also vault_sources[${previous}]); give one of them a distinct name`,
      })
    } else {
      sourceIndex.set(source.name, index)
    }
  })
  if (config.vault_sources.length > 0 && !config.vault) {
    issues.push({path: ['vault'], message: 'is required when vault_sources are configured'})
  }
  const names = new Map<string, number>()
  config.discovery.forEach((block, index) => {
    if (names.has(block.name))
      issues.push({path: ['discovery', index, 'name'], message: `duplicate discovery name "${block.name}"`})
    names.set(block.name, index)
  })

  config.targets.forEach((target, index) => {
    // The merge store keeps run locks under {prefix}locks/, so a target of that name would collide with them.
    if (target.name === 'locks' || target.name === 'discovery') {
      issues.push({
        path: ['targets', index, 'name'],
        message: `"${target.name}" is reserved (the merge store keeps ${target.name === 'locks' ? 'run locks' : 'discovery results'} under it); choose another name`,
      })
    }
    if (!target.region && !config.aws.region) {
      issues.push({path: ['targets', index, 'region'], message: 'is required when aws.region is not set'})
    }
  })

  issues.push(...checkNameTemplates(config))
  issues.push(...checkReplicaRegions(config))

  const result = buildTargetGraph([...sourceIndex.keys()], config.targets)
  // Static targets may import discovered ones; those names exist only after discovery, which checks them then.
  const deferUnknown = config.discovery.some((block) => block.enabled)
  if (!result.ok) {
    for (const issue of result.issues.filter((i) => !(deferUnknown && i.code === 'IMPORT_UNKNOWN'))) {
      const path: KeyPath =
        issue.importIndex === undefined
          ? ['targets', issue.targetIndex, issue.code === 'TARGET_CYCLE' ? 'imports' : 'name']
          : ['targets', issue.targetIndex, 'imports', issue.importIndex]
      issues.push({path, message: issue.message})
    }
  }
  return issues
}
