import type {Config} from './schema.js'
import {targetSites, type SemanticIssue} from './target-sites.js'

/**
 * `replica_regions` against the region the target itself lives in (README "Replica regions"): a secret cannot be
 * replicated into its own region, and the target's region may come from `aws.region`, so this spans sections.
 */
export function checkReplicaRegions(config: Config): SemanticIssue[] {
  return targetSites(config).flatMap(({at, target}) => {
    const own = target.region ?? config.aws.region
    return (target.replica_regions ?? []).flatMap((entry, index) =>
      own !== undefined && entry.region === own
        ? [
            {
              path: [...at, 'replica_regions', index, 'region'],
              message: `is the target's own region (${own}); a secret cannot be replicated into the region it is in`,
            },
          ]
        : [],
    )
  })
}
