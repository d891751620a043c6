import {loadProject} from './config/index.js'
import {insecureHttpWarning} from './config/transport-security.js'
import {nameTemplateWarnings} from './config/name-templates.js'
import type {Surroundings} from './composition-root.js'
import type {AccessCheck} from './check-access.js'
import {guardLines, untrusted} from './util/untrusted-text.js'

export interface ValidateOptions {
  configPath: string
  checkAccess: boolean
  surroundings: Surroundings
}

export interface ValidateResult {
  valid: true
  config: string
  sources: Array<{name: string; mount: string; max_secrets: number}>
  targets: Array<{name: string; level: number; imports: string[]; region: string | null; account_id: string | null}>
  levels: number
  discovery: Array<{name: string; type: string; enabled: boolean}>
  merge_store: {bucket: string; prefix: string} | null
  warnings: string[]
  /** With --check-access: reachability per source, target and the merge store. */
  access?: AccessCheck[]
}

/** Loads and validates the config and its graph; names and prefixes are checked by the schema. */
export async function validateProject(options: ValidateOptions): Promise<ValidateResult> {
  const {config, graph} = await loadProject(options.configPath, {env: options.surroundings.env})
  const warnings: string[] = []
  for (const target of config.targets) {
    if (target.imports.length === 0)
      warnings.push(`target "${target.name}" imports nothing: its desired state is empty`)
  }
  warnings.push(...nameTemplateWarnings(config))
  if (config.vault?.auth.method === 'approle' && (!config.vault.auth.role_id || !config.vault.auth.secret_id)) {
    warnings.push('vault.auth: role_id or secret_id is empty; login will fail until they are set')
  }
  const insecure = insecureHttpWarning(config, options.surroundings.env)
  if (insecure) warnings.push(insecure.message)
  const store = config.merge_store?.enabled ? config.merge_store : undefined
  return {
    valid: true,
    config: options.configPath,
    sources: config.vault_sources.map((s) => ({name: s.name, mount: s.mount, max_secrets: s.max_secrets})),
    targets: graph.order.map((name) => {
      const target = config.targets.find((t) => t.name === name)
      return {
        name,
        level: graph.levelOf(name),
        imports: [...graph.importsOf(name)],
        region: target?.region ?? config.aws.region ?? null,
        account_id: target?.account_id ?? null,
      }
    }),
    levels: graph.levels.length,
    discovery: config.discovery.map((d) => ({name: d.name, type: d.type, enabled: d.enabled})),
    merge_store: store ? {bucket: store.bucket, prefix: store.prefix} : null,
    warnings,
    // Imported here, not at the top: check-access pulls in every AWS SDK client and node-vault, which a plain
    // validate never uses and should not pay for at start-up.
    ...(options.checkAccess
      ? {access: await (await import('./check-access.js')).checkAccess(config, graph, options.surroundings)}
      : {}),
  }
}

/** Names, warnings and access details (AWS and Vault error texts) are untrusted: every field goes through `untrusted`. */
export function renderValidateText(result: ValidateResult): string {
  const lines = [
    untrusted`${result.config}: valid`,
    untrusted`  sources:   ${result.sources.length}${result.sources.length ? ` (${result.sources.map((s) => s.name).join(', ')})` : ''}`,
    `  targets:   ${result.targets.length} in ${result.levels} level${result.levels === 1 ? '' : 's'}`,
    untrusted`  discovery: ${result.discovery.length}${result.discovery.length ? ` (${result.discovery.map((d) => `${d.name}${d.enabled ? '' : ' disabled'}`).join(', ')})` : ''}`,
    untrusted`  merge store: ${result.merge_store ? `s3://${result.merge_store.bucket}/${result.merge_store.prefix}` : 'none (merge result flows to sync in memory)'}`,
    ...result.warnings.map((w) => untrusted`warning: ${w}`),
    ...(result.access ?? []).map(
      (check) => untrusted`${check.ok ? 'ok  ' : 'FAIL'} ${check.kind} ${check.name}: ${check.detail}`,
    ),
  ]
  return `${guardLines(lines.join('\n'))}\n`
}
