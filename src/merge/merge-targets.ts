import type {ListMergeMode} from '../config/schema.js'
import type {TargetGraph} from '../graph/target-graph.js'
import type {JsonObject} from '../util/canonical-json.js'
import {mergeOwnCopy, mergeSecret, ownCopy} from './deep-merge.js'
import {pathSelector, type PathSelection} from './select-paths.js'

/** Relative secret path → the secret's JSON object. */
export type SecretMap = ReadonlyMap<string, JsonObject>

export type SourceOutcome = {ok: true; secrets: SecretMap} | {ok: false; error: string}

export interface MergeTargetInput {
  name: string
  imports: readonly string[]
  /** Per import name: which of its paths the target takes (`imports: [{name, include, exclude}]`); default all. */
  selections?: ReadonlyArray<PathSelection & {name: string}>
  overrides: JsonObject
}

export type TargetMergeOutcome =
  {ok: true; secrets: SecretMap; sources: string[]} | {ok: false; error: string; failedSources: string[]}

/** What one import contributes to a target: a source's walked secrets or an imported target's final state. */
export type Contribution = {ok: true; secrets: SecretMap} | {ok: false}

/**
 * Builds one target's desired state: each import in order is merged into the accumulator per relative path
 * (imported targets contribute their final state, after their overrides), then `overrides` is merged into every
 * secret. A secret with a single contributor and no overrides is the contributor's own object, never a copy: one
 * source's secrets are shared by every target that imports them unchanged. Pure: no I/O.
 */
export function mergeTarget(
  target: MergeTargetInput,
  contributionOf: (imported: string) => Contribution | undefined,
  mode: ListMergeMode,
): Map<string, JsonObject> {
  const accumulator = new Map<string, JsonObject>()
  for (const imported of target.imports) {
    const contribution = contributionOf(imported)
    if (!contribution?.ok) continue
    const selection = target.selections?.find((entry) => entry.name === imported)
    const selected = selection ? pathSelector(selection) : () => true
    for (const [path, secret] of contribution.secrets) {
      if (!selected(path)) continue
      const existing = accumulator.get(path)
      accumulator.set(path, existing ? mergeSecret(existing, secret, mode) : secret)
    }
  }
  if (Object.keys(target.overrides).length > 0) {
    // Copied once for the target (YAML gives ordinary objects), then shared by every secret it is merged into.
    const overrides = ownCopy(target.overrides)
    for (const [path, secret] of accumulator) accumulator.set(path, mergeOwnCopy(secret, overrides, mode))
  }
  return accumulator
}

/** Why a target gets no state: the sources it reads (directly or through imported targets) that failed. */
export function failedSourcesOf(
  graph: TargetGraph,
  name: string,
  sources: ReadonlyMap<string, SourceOutcome>,
): {error: string; failedSources: string[]} | undefined {
  const failed = graph.sourcesOf(name).filter((source) => sources.get(source)?.ok !== true)
  if (failed.length === 0) return undefined
  const reasons = failed.map((source) => {
    const outcome = sources.get(source)
    return `source "${source}" failed: ${outcome && !outcome.ok ? outcome.error : 'not read'}`
  })
  return {error: reasons.join('; '), failedSources: failed}
}

/**
 * Builds every target's desired state in topological order (`mergeTarget` for each). A target whose sources
 * failed (directly or through an imported target) fails with the names of those sources and gets no state.
 * Pure: no I/O.
 */
export function mergeTargets(
  graph: TargetGraph,
  targets: readonly MergeTargetInput[],
  sources: ReadonlyMap<string, SourceOutcome>,
  mode: ListMergeMode,
  only: readonly string[] = graph.order,
): Map<string, TargetMergeOutcome> {
  const byName = new Map(targets.map((target) => [target.name, target]))
  const results = new Map<string, TargetMergeOutcome>()
  for (const name of graph.withDependencies(only)) {
    const target = byName.get(name)
    if (!target) continue
    const failed = failedSourcesOf(graph, name, sources)
    if (failed) {
      results.set(name, {ok: false, ...failed})
      continue
    }
    const contributionOf = (imported: string) =>
      graph.isTarget(imported) ? results.get(imported) : sources.get(imported)
    results.set(name, {ok: true, secrets: mergeTarget(target, contributionOf, mode), sources: graph.sourcesOf(name)})
  }
  return results
}
