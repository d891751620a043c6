import type {Config} from '../config/schema.js'
import type {TargetGraph} from '../graph/target-graph.js'
import {mergedTarget, mergeInputs, type MergedTarget, type WalkedSources} from '../merge/merge-phase.js'
import {failedSourcesOf, mergeTarget, type Contribution, type TargetMergeOutcome} from '../merge/merge-targets.js'
import type {TargetMergeReport} from './merge-stage.js'

/** One target merged and its snapshot recorded. */
export interface MergeStep {
  target: MergedTarget
  report: TargetMergeReport
}

export interface TargetMergerInput {
  config: Config
  graph: TargetGraph
  walked: WalkedSources
  /** Every target to merge: the selected ones and every target they import (graph.withDependencies). */
  targets: readonly string[]
  /** The targets a caller takes, each once; the others are merged only for the targets that import them. */
  taken: readonly string[]
  /** Records the merged target's snapshot (recordSnapshot). */
  record(target: MergedTarget): Promise<TargetMergeReport>
}

/**
 * Merges targets one at a time, on demand, after the sources were walked once: memory holds the sources, the
 * targets in flight, and an imported target's state only while a target importing it is still to be merged.
 * Each target's state is counted by its holders (the caller that takes it, plus each target importing it) and
 * dropped by the merger when the last one is done with it; the caller drops what it took.
 */
export class TargetMerger {
  private readonly steps = new Map<string, Promise<MergeStep>>()
  private readonly holders = new Map<string, number>()
  private readonly inputs: Map<string, ReturnType<typeof mergeInputs>[number]>

  constructor(private readonly input: TargetMergerInput) {
    this.inputs = new Map(mergeInputs(input.config).map((target) => [target.name, target]))
    const wanted = new Set(input.targets)
    for (const name of input.taken) this.hold(name)
    for (const name of input.targets)
      for (const imported of input.graph.importsOf(name)) if (wanted.has(imported)) this.hold(imported)
  }

  /** Merges the target (its imports first) and records its snapshot; each target is taken at most once. */
  async take(name: string): Promise<MergeStep> {
    const step = await this.step(name)
    this.release(name)
    return step
  }

  /**
   * How many secrets the target holds at most once merged: the secrets of every source it reads, directly or
   * through imported targets (paths shared by several sources count once per source).
   */
  secretsAtMost(name: string): number {
    const {graph, walked} = this.input
    return graph.sourcesOf(name).reduce((sum, source) => {
      const outcome = walked.outcomes.get(source)
      return sum + (outcome?.ok ? outcome.secrets.size : 0)
    }, 0)
  }

  private step(name: string): Promise<MergeStep> {
    let step = this.steps.get(name)
    if (!step) {
      step = this.merge(name)
      this.steps.set(name, step)
    }
    return step
  }

  private async merge(name: string): Promise<MergeStep> {
    const {graph, walked, config} = this.input
    const importedTargets = graph.importsOf(name).filter((imported) => graph.isTarget(imported))
    const imported = new Map<string, MergedTarget>()
    for (const step of await Promise.all(importedTargets.map((target) => this.step(target))))
      imported.set(step.target.name, step.target)
    const failed = failedSourcesOf(graph, name, walked.outcomes)
    const contributionOf = (from: string): Contribution | undefined => {
      if (!graph.isTarget(from)) return walked.outcomes.get(from)
      const target = imported.get(from)
      return target?.ok ? {ok: true, secrets: target.secrets} : {ok: false}
    }
    const own = this.inputs.get(name)
    const outcome: TargetMergeOutcome | undefined = failed
      ? {ok: false, ...failed}
      : own && {
          ok: true,
          secrets: mergeTarget(own, contributionOf, config.merge.lists),
          sources: graph.sourcesOf(name),
        }
    imported.clear()
    for (const target of importedTargets) this.release(target)
    const target = mergedTarget(name, outcome, graph, walked)
    // The report goes to whoever takes the target; nothing of it stays here (a streamed sync keeps no reports).
    return {target, report: await this.input.record(target)}
  }

  private hold(name: string): void {
    this.holders.set(name, (this.holders.get(name) ?? 0) + 1)
  }

  private release(name: string): void {
    const left = (this.holders.get(name) ?? 1) - 1
    this.holders.set(name, left)
    if (left <= 0) this.steps.delete(name)
  }
}
