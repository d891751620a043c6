import type {KeyPath} from './locate.js'
import type {Config, DiscoveryConfig, TargetConfig} from './schema.js'

/** A config problem at a key path: what semantic checks and config loading report (the loader adds file and line). */
export interface SemanticIssue {
  path: KeyPath
  message: string
}

/** Where target settings are written: each static target, then each discovery block's target template. */
export interface TargetSite {
  /** `targets[i]` or `discovery[i].target`. */
  at: KeyPath
  target: TargetConfig | DiscoveryConfig['target']
  /** Whether `{{account_name}}` has a value: discovered targets, or a static target with `account_name`. */
  hasAccountName: boolean
}

/** Every place a target's settings are written, in config order: the one walk the per-setting checks share. */
export const targetSites = (config: Pick<Config, 'targets' | 'discovery'>): TargetSite[] => [
  ...config.targets.map((target, index) => ({
    at: ['targets', index] as KeyPath,
    target,
    hasAccountName: target.account_name !== undefined,
  })),
  ...config.discovery.map((block, index) => ({
    at: ['discovery', index, 'target'] as KeyPath,
    target: block.target,
    hasAccountName: true,
  })),
]
