import {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'

/**
 * A small in-memory model of Secrets Manager that answers the SDK commands sync sends (ListSecrets with tag and
 * name filters and paging, BatchGetSecretValue, Create/Put/Update/Tag/Untag/Delete/Restore) with the documented
 * semantics that matter to sync. It is the "AWS" of the model-based plan/apply tests: fast, in-process, and
 * deliberately written apart from the planner so it can disagree with it.
 */
export interface ModelSecret {
  name: string
  tags: Record<string, string>
  kmsKeyId?: string
  description?: string
  /** VersionId → SecretString. */
  versions: Record<string, string>
  current?: string
  deleted: boolean
  /** Rotation is configured (ListSecrets reports `RotationEnabled: true`). */
  rotation?: boolean
  /** Replica region → its ReplicationStatus `Status` (the model's own region is us-east-1). */
  replicas?: Record<string, 'InSync' | 'Failed'>
  /** The resource policy, kept re-indented (AWS keeps its own form of the document, not the text sent). */
  policy?: string
}

/** Replicating into these regions fails (as when a same-named secret already lives there). */
export const FAILING_REPLICA_REGIONS = new Set(['ap-south-1'])

export interface ModelWrite {
  operation: string
  name: string
}

const awsError = (name: string, message: string): Error => Object.assign(new Error(message), {name})

export class SecretsManagerModel {
  readonly secrets = new Map<string, ModelSecret>()
  readonly writes: ModelWrite[] = []
  private versionSeq = 0

  constructor(initial: readonly ModelSecret[] = []) {
    for (const secret of initial) this.secrets.set(secret.name, structuredClone(secret))
  }

  /** A plain copy of the state, for before/after comparisons. */
  snapshot(): Record<string, ModelSecret> {
    return Object.fromEntries([...this.secrets].map(([name, secret]) => [name, structuredClone(secret)]))
  }

  client(): SecretsManagerClient {
    const send = (command: {constructor: {name: string}; input: Record<string, unknown>}): Promise<unknown> => {
      try {
        return Promise.resolve(this.handle(command.constructor.name.replace(/Command$/, ''), command.input))
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)))
      }
    }
    // The SDK's paginators insist on a real client instance; only `send` and `destroy` are ever used.
    return Object.assign(Object.create(SecretsManagerClient.prototype) as SecretsManagerClient, {
      send,
      destroy: () => undefined,
    })
  }

  private live(id: unknown): ModelSecret {
    const secret = this.secrets.get(String(id))
    if (!secret) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.")
    if (secret.deleted) throw awsError('InvalidRequestException', 'the secret is scheduled for deletion')
    return secret
  }

  private putVersion(secret: ModelSecret, token: unknown, value: unknown): string {
    const id = typeof token === 'string' ? token : `v${++this.versionSeq}`
    if (secret.versions[id] !== undefined && secret.versions[id] !== value)
      throw awsError('ResourceExistsException', 'version exists')
    secret.versions[id] = String(value)
    secret.current = id
    return id
  }

  private handle(operation: string, input: Record<string, unknown>): unknown {
    const name = String(input.SecretId ?? input.Name ?? '')
    const isWrite = !['ListSecrets', 'BatchGetSecretValue', 'DescribeSecret', 'GetResourcePolicy'].includes(operation)
    const result = this.dispatch(operation, input, name)
    if (isWrite) this.writes.push({operation, name})
    return result
  }

  private dispatch(operation: string, input: Record<string, unknown>, name: string): unknown {
    switch (operation) {
      case 'ListSecrets':
        return this.list(input)
      case 'BatchGetSecretValue': {
        const values: unknown[] = []
        const errors: unknown[] = []
        for (const id of input.SecretIdList as string[]) {
          const secret = this.secrets.get(id)
          if (!secret || secret.current === undefined)
            errors.push({SecretId: id, ErrorCode: 'ResourceNotFoundException'})
          else if (secret.deleted) errors.push({SecretId: id, ErrorCode: 'InvalidRequestException'})
          else values.push({Name: id, VersionId: secret.current, SecretString: secret.versions[secret.current]})
        }
        return {SecretValues: values, Errors: errors}
      }
      case 'DescribeSecret': {
        const secret = this.secrets.get(name)
        if (!secret) throw awsError('ResourceNotFoundException', 'no such secret')
        return {Name: name, ReplicationStatus: this.statuses(secret)}
      }
      case 'ReplicateSecretToRegions': {
        const secret = this.live(name)
        this.replicate(secret, input.AddReplicaRegions)
        return {ReplicationStatus: this.statuses(secret)}
      }
      case 'RemoveRegionsFromReplication': {
        const secret = this.live(name)
        for (const region of input.RemoveReplicaRegions as string[]) delete secret.replicas?.[region]
        return {ReplicationStatus: this.statuses(secret)}
      }
      case 'CreateSecret': {
        if (this.secrets.has(name)) throw awsError('ResourceExistsException', `the secret ${name} already exists`)
        const secret: ModelSecret = {name, tags: {}, versions: {}, deleted: false}
        for (const tag of (input.Tags as Array<{Key: string; Value: string}> | undefined) ?? [])
          secret.tags[tag.Key] = tag.Value
        if (typeof input.KmsKeyId === 'string') secret.kmsKeyId = input.KmsKeyId
        if (typeof input.Description === 'string') secret.description = input.Description
        this.secrets.set(name, secret)
        if (input.AddReplicaRegions !== undefined) this.replicate(secret, input.AddReplicaRegions)
        return {
          Name: name,
          ...(secret.replicas ? {ReplicationStatus: this.statuses(secret)} : {}),
          ...(input.SecretString !== undefined
            ? {VersionId: this.putVersion(secret, input.ClientRequestToken, input.SecretString)}
            : {}),
        }
      }
      case 'PutSecretValue':
        return {Name: name, VersionId: this.putVersion(this.live(name), input.ClientRequestToken, input.SecretString)}
      case 'UpdateSecret': {
        const secret = this.live(name)
        if (typeof input.KmsKeyId === 'string') secret.kmsKeyId = input.KmsKeyId
        if (typeof input.Description === 'string') secret.description = input.Description
        return {Name: name}
      }
      case 'TagResource': {
        const secret = this.live(name)
        for (const tag of input.Tags as Array<{Key: string; Value: string}>) secret.tags[tag.Key] = tag.Value
        return {}
      }
      case 'UntagResource': {
        const secret = this.live(name)
        for (const key of input.TagKeys as string[]) delete secret.tags[key]
        return {}
      }
      case 'DeleteSecret':
        if (Object.keys(this.live(name).replicas ?? {}).length > 0)
          throw awsError('InvalidRequestException', `You can't delete secret ${name} that still has replica regions`)
        this.live(name).deleted = true
        return {Name: name}
      case 'RestoreSecret': {
        const secret = this.secrets.get(name)
        if (!secret) throw awsError('ResourceNotFoundException', 'no such secret')
        secret.deleted = false
        return {Name: name}
      }
      case 'GetResourcePolicy': {
        const secret = this.live(name)
        return {Name: name, ...(secret.policy === undefined ? {} : {ResourcePolicy: secret.policy})}
      }
      case 'PutResourcePolicy':
        if (input.BlockPublicPolicy !== true) throw new Error('the model expects BlockPublicPolicy: true')
        this.live(name).policy = JSON.stringify(JSON.parse(String(input.ResourcePolicy)), null, 1)
        return {Name: name}
      case 'DeleteResourcePolicy':
        delete this.live(name).policy
        return {Name: name}
      default:
        throw new Error(`the model does not serve ${operation}`)
    }
  }

  private statuses(secret: ModelSecret): unknown[] {
    return Object.entries(secret.replicas ?? {}).map(([Region, Status]) => ({
      Region,
      Status,
      ...(Status === 'Failed' ? {StatusMessage: `Replication failed: Secret name ${secret.name} already exists`} : {}),
    }))
  }

  private replicate(secret: ModelSecret, regions: unknown): void {
    const replicas = (secret.replicas ??= {})
    for (const {Region} of regions as Array<{Region: string}>) {
      if (replicas[Region] !== undefined) throw awsError('InvalidParameterException', `already replicated to ${Region}`)
      replicas[Region] = FAILING_REPLICA_REGIONS.has(Region) ? 'Failed' : 'InSync'
    }
  }

  private list(input: Record<string, unknown>): unknown {
    const filters = (input.Filters as Array<{Key: string; Values: string[]}> | undefined) ?? []
    const attributes = (secret: ModelSecret, key: string): string[] =>
      key === 'name'
        ? [secret.name]
        : key === 'tag-key'
          ? Object.keys(secret.tags)
          : key === 'tag-value'
            ? Object.values(secret.tags)
            : []
    const matching = [...this.secrets.values()]
      .filter((secret) => input.IncludePlannedDeletion === true || !secret.deleted)
      .filter((secret) =>
        filters.every((filter) =>
          filter.Values.some((value) => attributes(secret, filter.Key).some((a) => a.startsWith(value))),
        ),
      )
      .sort((a, b) => (a.name < b.name ? -1 : 1))
    const offset = Number(input.NextToken ?? 0)
    const size = Number(input.MaxResults ?? 100)
    const page = matching.slice(offset, offset + size)
    return {
      SecretList: page.map((secret) => ({
        Name: secret.name,
        ...(Object.keys(secret.tags).length > 0
          ? {Tags: Object.entries(secret.tags).map(([Key, Value]) => ({Key, Value}))}
          : {}),
        ...(secret.kmsKeyId !== undefined ? {KmsKeyId: secret.kmsKeyId} : {}),
        ...(secret.description !== undefined ? {Description: secret.description} : {}),
        ...(secret.deleted ? {DeletedDate: new Date(0)} : {}),
        ...(secret.rotation ? {RotationEnabled: true} : {}),
        ...(Object.keys(secret.replicas ?? {}).length > 0 ? {PrimaryRegion: 'us-east-1'} : {}),
        SecretVersionsToStages: secret.current === undefined ? {} : {[secret.current]: ['AWSCURRENT']},
      })),
      ...(offset + size < matching.length ? {NextToken: String(offset + size)} : {}),
    }
  }
}
