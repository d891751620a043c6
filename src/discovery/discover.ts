import type {DiscoveryConfig, TargetConfig} from '../config/schema.js'
import {SecretSyncError} from '../errors.js'
import {isFresh, type DiscoveryCache} from './cache.js'
import {TemplateError} from './errors.js'
import {evaluateAccount, filtersReadTags, ouFilterIds} from './filters.js'
import {listIdentityCenterAccountIds} from './identity-center.js'
import {identityStoreGroupResolver} from './identity-store.js'
import {DEFAULT_DISCOVERY_CONCURRENCY, describeAccounts, listOrganizationAccounts} from './organizations.js'
import {renderTarget, resolveNameCollisions, templateReadsTags} from './templates.js'
import type {
  CallContext,
  DiscoveredAccount,
  DiscoveredAccountReport,
  DiscoveryBlockReport,
  DiscoveryClients,
  DiscoveryLogger,
  DiscoveryReport,
} from './types.js'

/**
 * Names no discovered target may take: the merge store keeps run locks under `{prefix}locks/` and the discovery
 * cache under `{prefix}discovery/`, beside the target folders.
 */
export const RESERVED_TARGET_NAMES = ['locks', 'discovery'] as const

export interface DiscoverTargetsOptions {
  blocks: readonly DiscoveryConfig[]
  /** Targets of the config: discovered names that equal one of them get `_<account id>`. */
  staticTargets: readonly TargetConfig[]
  /** Vault source names, reserved like static target names. */
  sources: readonly string[]
  clients: DiscoveryClients
  cache: DiscoveryCache
  /** `--no-cache`: query AWS even when the cache is fresh (the result is still cached). */
  noCache: boolean
  /** Milliseconds since the epoch. */
  now: () => number
  logger: DiscoveryLogger
  /** AWS calls in flight per block (default 8). */
  concurrency?: number
  /** For error messages (`[run=<id>] …`). */
  runId?: string
}

export interface DiscoverTargetsResult {
  /** Discovered targets, block by block, each block's ordered by account id. */
  targets: TargetConfig[]
  report: DiscoveryReport
}

interface BlockOutcome {
  report: DiscoveryBlockReport
  /** Included accounts whose template rendered, in account order, with the report row to name. */
  rendered: Array<{target: TargetConfig; row: DiscoveredAccountReport}>
}

/** Whether the block reads tags anywhere (filters or templates): only then are they looked up. */
const blockReadsTags = (block: DiscoveryConfig): boolean => filtersReadTags(block) || templateReadsTags(block.target)

/**
 * Where the Organizations walk starts: the `ou` filters when every account must be under one of them (`match: all`,
 * or `match: any` with only `ou` filters); otherwise the roots, since a tag filter may match anywhere.
 */
const walkStarts = (block: DiscoveryConfig): string[] => {
  const ous = ouFilterIds(block)
  const onlyOus = block.filters.every((filter) => 'ou' in filter)
  return ous.length > 0 && (block.match === 'all' || onlyOus) ? ous : []
}

/** What a block asks of AWS; a cached result answers the block only if this is unchanged. */
export function discoveryQueryKey(block: DiscoveryConfig): string {
  const common = {
    type: block.type,
    role_arn: block.role_arn ?? null,
    region: block.region ?? null,
    tags: blockReadsTags(block),
  }
  return JSON.stringify(
    block.type === 'aws_organizations'
      ? {...common, walk: [...walkStarts(block)].sort()}
      : {
          ...common,
          instance_arn: block.instance_arn ?? null,
          permission_set: block.permission_set ?? null,
          group: block.group ?? null,
          ous: [...ouFilterIds(block)].sort(),
        },
  )
}

async function queryAccounts(
  block: DiscoveryConfig,
  options: DiscoverTargetsOptions,
  context: CallContext,
): Promise<DiscoveredAccount[]> {
  const concurrency = options.concurrency ?? DEFAULT_DISCOVERY_CONCURRENCY
  const lookUpTags = blockReadsTags(block)
  const organizations = options.clients.organizations(block.role_arn, block.region)
  if (block.type === 'aws_organizations') {
    return listOrganizationAccounts(organizations, {startIds: walkStarts(block), lookUpTags, concurrency, context})
  }
  const accountIds = await listIdentityCenterAccountIds(options.clients.ssoAdmin(block.role_arn, block.region), {
    instanceArn: block.instance_arn,
    permissionSet: block.permission_set,
    group: block.group,
    // The client is built only when a display name must be resolved: ids need no Identity Store call.
    resolveGroup: (name, where) =>
      identityStoreGroupResolver(options.clients.identityStore(block.role_arn, block.region))(name, where),
    concurrency,
    context,
  })
  const ous = ouFilterIds(block)
  // `ou` filters need to know where each account sits: walk those OUs (no tags) and place the accounts found there.
  const walked =
    ous.length === 0
      ? []
      : await listOrganizationAccounts(organizations, {startIds: ous, lookUpTags: false, concurrency, context})
  const placement = new Map(walked.map((account) => [account.id, account]))
  return describeAccounts(organizations, accountIds, {lookUpTags, concurrency, context, placement})
}

/** Accounts from the cache when fresh (and not bypassed), else from AWS, then cached. Cache failures only warn. */
async function accountsOf(
  block: DiscoveryConfig,
  options: DiscoverTargetsOptions,
  context: CallContext,
): Promise<{accounts: DiscoveredAccount[]; cache: 'hit' | 'miss' | 'bypassed'; discoveredAt: number}> {
  const {cache, logger} = options
  const query = discoveryQueryKey(block)
  if (!options.noCache) {
    const entry = await cache.read(block.name).catch((error: unknown) => {
      logger.warn('discovery cache unreadable; querying AWS', {
        block: block.name,
        cache: cache.location,
        error: messageOf(error),
      })
      return undefined
    })
    if (entry && isFresh(entry, {query, ttlMs: block.cache_ttl, now: options.now()})) {
      logger.debug('discovery cache hit', {block: block.name, cache: cache.location, accounts: entry.accounts.length})
      return {accounts: entry.accounts, cache: 'hit', discoveredAt: entry.createdAt}
    }
  }
  const accounts = await queryAccounts(block, options, context)
  const discoveredAt = options.now()
  await cache
    .write(block.name, {createdAt: discoveredAt, ttlMs: block.cache_ttl, query, accounts})
    .catch((error: unknown) => {
      logger.warn('discovery cache not written; the next run queries AWS again', {
        block: block.name,
        cache: cache.location,
        error: messageOf(error),
      })
    })
  return {accounts, cache: options.noCache ? 'bypassed' : 'miss', discoveredAt}
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** Filters and renders one block's accounts: a report row for each, and the target of each included one. */
function assessAccounts(
  block: DiscoveryConfig,
  accounts: readonly DiscoveredAccount[],
): Pick<BlockOutcome, 'rendered'> & {rows: DiscoveredAccountReport[]} {
  const rows: DiscoveredAccountReport[] = []
  const rendered: BlockOutcome['rendered'] = []
  for (const account of accounts) {
    const verdict = evaluateAccount(account, block)
    const row: DiscoveredAccountReport = {
      account_id: account.id,
      account_name: account.name,
      status: account.status,
      ou_id: account.ouId ?? null,
      tags: account.tags,
      included: verdict.included,
      reasons: verdict.reasons,
      target: null,
      error: null,
    }
    rows.push(row)
    if (!verdict.included) continue
    try {
      rendered.push({target: renderTarget(block.target, account), row})
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error
      row.error = error.message
    }
  }
  return {rows, rendered}
}

async function discoverBlock(block: DiscoveryConfig, options: DiscoverTargetsOptions): Promise<BlockOutcome> {
  const base = {name: block.name, type: block.type, cache: null, discovered_at: null, error: null, accounts: []}
  if (!block.enabled) return {report: {...base, status: 'disabled'}, rendered: []}
  let found: Awaited<ReturnType<typeof accountsOf>>
  try {
    found = await accountsOf(block, options, {block: block.name, runId: options.runId ?? '-'})
  } catch (error) {
    const failure =
      error instanceof SecretSyncError
        ? {code: error.code, message: error.message, hint: error.hint ?? null}
        : {code: 'DISCOVERY_FAILED', message: `discovery "${block.name}": ${messageOf(error)}`, hint: null}
    options.logger.warn('discovery block failed', {block: block.name, code: failure.code, error: failure.message})
    return {report: {...base, status: 'failed', error: failure}, rendered: []}
  }
  const {rows, rendered} = assessAccounts(block, found.accounts)
  options.logger.info('discovery block done', {
    block: block.name,
    accounts: rows.length,
    included: rows.filter((row) => row.included).length,
    targets: rendered.length,
    cache: found.cache,
  })
  const report: DiscoveryBlockReport = {
    ...base,
    status: found.cache === 'hit' ? 'cached' : 'discovered',
    cache: found.cache,
    discovered_at: new Date(found.discoveredAt).toISOString(),
    accounts: rows,
  }
  return {report, rendered}
}

/**
 * Runs every enabled discovery block (disabled ones are reported as such), filters the accounts found and renders
 * each included account into a target. Names are made unique across all blocks against the static targets,
 * the sources and the reserved names. A block that fails is reported with its error and yields no targets; the
 * others go on. Never throws for AWS or template failures: the report says what happened.
 */
export async function discoverTargets(options: DiscoverTargetsOptions): Promise<DiscoverTargetsResult> {
  const outcomes: BlockOutcome[] = []
  // Blocks run one after another: they usually share the discovery role and its Organizations rate limit.
  for (const block of options.blocks) outcomes.push(await discoverBlock(block, options))

  const rendered = outcomes.flatMap((outcome) =>
    outcome.rendered.map((entry) => ({...entry, block: outcome.report.name})),
  )
  const reserved = [...options.staticTargets.map((target) => target.name), ...options.sources, ...RESERVED_TARGET_NAMES]
  const names = resolveNameCollisions(
    rendered.map(({target, block}) => ({name: target.name, accountId: target.account_id ?? '', block})),
    reserved,
  )
  const targets: TargetConfig[] = []
  rendered.forEach(({target, row}, index) => {
    const resolved = names[index]
    if (resolved === undefined) return
    if ('error' in resolved) {
      row.error = resolved.error
      return
    }
    row.target = resolved.name
    targets.push({...target, name: resolved.name})
  })

  const blocks = outcomes.map((outcome) => outcome.report)
  const rows = blocks.flatMap((block) => block.accounts)
  const included = rows.filter((row) => row.included).length
  const report: DiscoveryReport = {
    summary: {
      blocks: blocks.length,
      disabled: blocks.filter((block) => block.status === 'disabled').length,
      failed_blocks: blocks.filter((block) => block.status === 'failed').length,
      accounts: rows.length,
      included,
      excluded: rows.length - included,
      targets: targets.length,
      account_errors: rows.filter((row) => row.error !== null).length,
    },
    blocks,
  }
  return {targets, report}
}
