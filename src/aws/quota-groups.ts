import type {QuotaGroup} from '../resilience/quota-limiter.js'

/**
 * The request quotas a run draws on, per account-region (AWS Secrets Manager quotas, reference_limits in its user
 * guide; S3's per-prefix request rates). AWS counts CreateSecret, DeleteSecret, RestoreSecret, PutSecretValue +
 * UpdateSecret and TagResource + UntagResource as separate 50/s quotas; docs/design.md caps all writes of an
 * account-region together at `sync.write_rate`, so they share one adaptive rate: a throttle of any of them slows
 * every write, which is what an operator sharing the account expects of "writes per second".
 */

const SECRETS_MANAGER_WRITES = new Set([
  'CreateSecret',
  'PutSecretValue',
  'UpdateSecret',
  'DeleteSecret',
  'RestoreSecret',
  'TagResource',
  'UntagResource',
  'UpdateSecretVersionStage',
  'PutResourcePolicy',
  'DeleteResourcePolicy',
  'ReplicateSecretToRegions',
  'RemoveRegionsFromReplication',
  'RotateSecret',
  'CancelRotateSecret',
])

/** Secrets Manager's quota groups for a run whose writes are capped at `writeRate` per account-region. */
export function secretsManagerGroups(writeRate: number) {
  const writes: QuotaGroup = {service: 'secretsmanager', name: 'writes', ceiling: writeRate}
  // Documented default quotas (not adjustable): 100/s for each; DescribeSecret/GetSecretValue 10,000/s.
  const list: QuotaGroup = {service: 'secretsmanager', name: 'ListSecrets', ceiling: 100}
  const batchRead: QuotaGroup = {service: 'secretsmanager', name: 'BatchGetSecretValue', ceiling: 100}
  const otherReads: QuotaGroup = {service: 'secretsmanager', name: 'reads', ceiling: Infinity}
  const groupOf = (operation: string): QuotaGroup =>
    SECRETS_MANAGER_WRITES.has(operation)
      ? writes
      : operation === 'ListSecrets'
        ? list
        : operation === 'BatchGetSecretValue'
          ? batchRead
          : otherReads
  return {writes, groupOf, isWrite: (operation: string): boolean => SECRETS_MANAGER_WRITES.has(operation)}
}

// S3 documents at least 3,500 PUT/COPY/POST/DELETE and 5,500 GET/HEAD requests per second per prefix.
const S3_WRITES: QuotaGroup = {service: 's3', name: 'writes', ceiling: 3500}
const S3_READS: QuotaGroup = {service: 's3', name: 'reads', ceiling: 5500}

export const s3GroupOf = (operation: string): QuotaGroup =>
  /^(Put|Delete|Copy|Create|Complete|Upload|Abort)/.test(operation) ? S3_WRITES : S3_READS
