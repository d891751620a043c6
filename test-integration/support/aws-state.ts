import {GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import type {ItStack} from './harness.js'

/**
 * Reads (and out-of-band edits) of AWS state through the SDK, as an operator would make them: what scenarios
 * assert on. moto has no call counters, so "nothing was written" is checked as "nothing changed": the same
 * AWSCURRENT VersionIds, the same S3 keys and ETags.
 */
export interface SecretState {
  versionId: string | undefined
  tags: Record<string, string>
  deleted: boolean
}

export function awsState(stack: ItStack) {
  const withSm = async <T>(account: string | undefined, run: (sm: SecretsManagerClient) => Promise<T>): Promise<T> => {
    const sm = new SecretsManagerClient(stack.awsConfig({account}))
    try {
      return await run(sm)
    } finally {
      sm.destroy()
    }
  }
  const s3 = new S3Client({...stack.awsConfig(), forcePathStyle: true})
  return {
    /** Secrets under a name prefix (scheduled deletions included), by name. */
    secrets: (account: string | undefined, prefix: string): Promise<Map<string, SecretState>> =>
      withSm(account, async (sm) => {
        const found = new Map<string, SecretState>()
        let token: string | undefined
        do {
          const page = await sm.send(
            new ListSecretsCommand({
              Filters: [{Key: 'name', Values: [prefix]}],
              IncludePlannedDeletion: true,
              NextToken: token,
            }),
          )
          for (const entry of page.SecretList ?? []) {
            if (!entry.Name?.startsWith(prefix)) continue
            const current = Object.entries(entry.SecretVersionsToStages ?? {}).find(([, stages]) =>
              stages.includes('AWSCURRENT'),
            )?.[0]
            found.set(entry.Name, {
              versionId: current,
              tags: Object.fromEntries((entry.Tags ?? []).map((t) => [t.Key, t.Value])),
              deleted: entry.DeletedDate !== undefined,
            })
          }
          token = page.NextToken
        } while (token)
        return found
      }),
    value: (account: string | undefined, name: string): Promise<unknown> =>
      withSm(account, async (sm) =>
        JSON.parse((await sm.send(new GetSecretValueCommand({SecretId: name}))).SecretString ?? 'null'),
      ),
    describe: (account: string | undefined, name: string) =>
      withSm(account, (sm) => sm.send(new DescribeSecretCommand({SecretId: name}))),
    /** An edit made in the console or CLI, outside secretsync. */
    putOutOfBand: (account: string | undefined, name: string, value: unknown) =>
      withSm(account, (sm) =>
        sm.send(new PutSecretValueCommand({SecretId: name, SecretString: JSON.stringify(value)})),
      ),
    /** Every key under a prefix with its ETag. */
    objects: async (bucket: string, prefix: string): Promise<Map<string, string>> => {
      const found = new Map<string, string>()
      let token: string | undefined
      do {
        const page = await s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: prefix, ContinuationToken: token}))
        for (const object of page.Contents ?? []) found.set(object.Key ?? '', object.ETag ?? '')
        token = page.NextContinuationToken
      } while (token)
      return found
    },
    head: (bucket: string, key: string) => s3.send(new HeadObjectCommand({Bucket: bucket, Key: key})),
    json: async (bucket: string, key: string): Promise<unknown> =>
      JSON.parse(
        (await (await s3.send(new GetObjectCommand({Bucket: bucket, Key: key}))).Body?.transformToString('utf8')) ??
          'null',
      ),
    putJson: (bucket: string, key: string, body: unknown) =>
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: JSON.stringify(body),
          ContentType: 'application/json',
          ServerSideEncryption: 'AES256',
        }),
      ),
    close: () => s3.destroy(),
  }
}
