import {jsonResponse} from './protocol.js'
import {
  batchGetSecretValue,
  describeSecret,
  getSecretValue,
  listSecrets,
  listSecretVersionIds,
} from './secrets-manager-reads.js'
import {
  removeRegionsFromReplication,
  replicaWriteRefused,
  replicateSecretToRegions,
} from './secrets-manager-replication.js'
import {
  deleteResourcePolicy,
  getResourcePolicy,
  putResourcePolicy,
  validateResourcePolicy,
} from './secrets-manager-policies.js'
import {SecretsManagerState} from './secrets-manager-state.js'
import {
  createSecret,
  deleteSecret,
  putSecretValue,
  restoreSecret,
  rotateSecret,
  tagResource,
  untagResource,
  updateSecret,
} from './secrets-manager-writes.js'
import {AwsError, type AwsContext, type AwsRequest, type AwsServiceHandler} from './types.js'

export {SecretsManagerState} from './secrets-manager-state.js'
export type {SecretView, SecretVersionView, SeedSecretOptions, WriteCall} from './secrets-manager-state.js'

type Operation = (state: SecretsManagerState, req: AwsRequest) => unknown

const WRITES: Record<string, Operation> = {
  CreateSecret: createSecret,
  PutSecretValue: putSecretValue,
  UpdateSecret: updateSecret,
  DeleteSecret: deleteSecret,
  RestoreSecret: restoreSecret,
  RotateSecret: rotateSecret,
  TagResource: tagResource,
  UntagResource: untagResource,
  ReplicateSecretToRegions: replicateSecretToRegions,
  RemoveRegionsFromReplication: removeRegionsFromReplication,
  PutResourcePolicy: putResourcePolicy,
  DeleteResourcePolicy: deleteResourcePolicy,
}

const READS: Record<string, Operation> = {
  GetSecretValue: getSecretValue,
  BatchGetSecretValue: batchGetSecretValue,
  DescribeSecret: describeSecret,
  ListSecrets: listSecrets,
  ListSecretVersionIds: listSecretVersionIds,
  GetResourcePolicy: getResourcePolicy,
  ValidateResourcePolicy: validateResourcePolicy,
}

/**
 * The Secrets Manager service of the AWS test server (JSON 1.1, `X-Amz-Target: secretsmanager.<Operation>`).
 * State is kept per account (of the signing credentials) and region; the router applies quotas, faults and
 * counters before a request gets here.
 */
export function createSecretsManagerService(ctx: AwsContext): {handler: AwsServiceHandler; state: SecretsManagerState} {
  const state = new SecretsManagerState(() => ctx.now())
  const handler: AwsServiceHandler = {
    service: 'secretsmanager',
    handle(req) {
      const write = WRITES[req.operation]
      const operation = write ?? READS[req.operation]
      if (!operation) {
        throw new AwsError('UnknownOperationException', `Operation ${req.operation} is not supported by this server.`)
      }
      const secretId = typeof req.json.SecretId === 'string' ? req.json.SecretId : String(req.json.Name)
      // A replica is read-only: every write goes to the primary, and the replicas follow it.
      if (write && req.operation !== 'CreateSecret') {
        if (state.lookup(req.accountId, req.region, secretId)?.primaryRegion !== undefined) throw replicaWriteRefused()
      }
      const body = operation(state, req)
      if (write) {
        state.recordWrite({operation: req.operation, accountId: req.accountId, region: req.region, secretId})
        const written = state.lookup(req.accountId, req.region, secretId)
        if (written) state.syncReplicas(req.accountId, req.region, written)
      }
      return jsonResponse(body)
    },
  }
  return {handler, state}
}
