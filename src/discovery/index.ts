export {
  createMemoryDiscoveryCache,
  createStoreDiscoveryCache,
  isFresh,
  parseCachedDiscovery,
  readOnlyDiscoveryCache,
  serializeCachedDiscovery,
  type CachedDiscovery,
  type DiscoveryCache,
} from './cache.js'
export {
  discoverTargets,
  discoveryQueryKey,
  RESERVED_TARGET_NAMES,
  type DiscoverTargetsOptions,
  type DiscoverTargetsResult,
} from './discover.js'
export {callAws, DiscoveryError, TemplateError} from './errors.js'
export {evaluateAccount, filtersReadTags, ouFilterIds, wildcardMatches, type FilterRules} from './filters.js'
export {isGroupId, listIdentityCenterAccountIds, type IdentityCenterQuery} from './identity-center.js'
export {
  DEFAULT_DISCOVERY_CONCURRENCY,
  describeAccounts,
  listAccountTags,
  listOrganizationAccounts,
  type DescribeAccountsOptions,
  type OrganizationWalkOptions,
} from './organizations.js'
export {DiscoveryObjectStore, type DiscoveryObjectStoreOptions} from './store-cache.js'
export {
  renderTarget,
  renderTemplateString,
  resolveNameCollisions,
  sanitizeTargetName,
  templateReadsTags,
  type NamedTarget,
  type ResolvedName,
  type TargetTemplate,
  type TemplateAccount,
} from './templates.js'
export type {
  AccountVerdict,
  BlockStatus,
  CallContext,
  DiscoveredAccount,
  DiscoveredAccountReport,
  DiscoveryBlockReport,
  DiscoveryClients,
  DiscoveryLogger,
  DiscoveryReport,
  GroupResolver,
} from './types.js'
