import {ListSecretsCommand} from '@aws-sdk/client-secrets-manager'
import type {Config} from './config/schema.js'
import type {TargetGraph} from './graph/target-graph.js'
import {compose, type Surroundings} from './composition-root.js'
import {resolveTarget} from './sync/sync-phase.js'

export interface AccessCheck {
  kind: 'source' | 'target' | 'merge_store'
  name: string
  ok: boolean
  detail: string
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/**
 * `validate --check-access`: logs in to Vault and lists each source's root, assumes each static target's role
 * (with the account check) and lists one secret, and reads the merge store's bucket. Writes nothing.
 */
export async function checkAccess(
  config: Config,
  graph: TargetGraph,
  surroundings: Surroundings,
): Promise<AccessCheck[]> {
  // Only errors are logged: the checks themselves are the output.
  const {adapters, close} = compose(config, {...surroundings, logLevel: 'error'})
  const checks: AccessCheck[] = []
  try {
    if (config.vault_sources.length > 0) {
      try {
        const vault = await adapters.connectVault()
        for (const source of config.vault_sources) {
          try {
            const {mount, relative} = await vault.resolveMount(source.mount)
            const listed = await vault.list(mount, relative)
            checks.push({
              kind: 'source',
              name: source.name,
              ok: listed.kind !== 'forbidden',
              detail:
                listed.kind === 'ok'
                  ? `${listed.keys.length} keys at ${source.mount}`
                  : `${listed.kind} at ${source.mount}`,
            })
          } catch (error) {
            checks.push({kind: 'source', name: source.name, ok: false, detail: messageOf(error)})
          }
        }
      } catch (error) {
        for (const source of config.vault_sources)
          checks.push({kind: 'source', name: source.name, ok: false, detail: messageOf(error)})
      }
    }
    if (adapters.store) {
      try {
        const versions = await adapters.store.listVersions(graph.order[0] ?? 'secretsync-access-check')
        checks.push({
          kind: 'merge_store',
          name: config.merge_store?.bucket ?? '',
          ok: true,
          detail: `readable (${versions.length} snapshots of the first target)`,
        })
      } catch (error) {
        checks.push({kind: 'merge_store', name: config.merge_store?.bucket ?? '', ok: false, detail: messageOf(error)})
      }
    }
    for (const target of config.targets) {
      const resolved = resolveTarget(config, target)
      try {
        const {client, accountId} = await adapters.connectTarget(resolved)
        try {
          await client.send(new ListSecretsCommand({MaxResults: 1}))
          checks.push({
            kind: 'target',
            name: target.name,
            ok: true,
            detail: `${accountId} / ${resolved.region}: Secrets Manager reachable`,
          })
        } finally {
          client.destroy()
        }
      } catch (error) {
        checks.push({kind: 'target', name: target.name, ok: false, detail: messageOf(error)})
      }
    }
    return checks
  } finally {
    close()
  }
}
