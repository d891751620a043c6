import {randomUUID} from 'node:crypto'
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  type Filter,
  type SecretListEntry,
} from '@aws-sdk/client-secrets-manager'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AwsServer} from '../support/aws/aws-server.js'
import {onMoto, serverOnly, useAwsEndpoint} from './endpoint.js'

/**
 * Conformance of Secrets Manager against the documented API, driven through the real SDK over HTTP: the project's
 * server by default (a fresh one per test, with an injected clock it can move), moto with
 * SECRETSYNC_CONFORMANCE=moto. Seeding goes through the API on moto and through state on the server (fast, and
 * the only way to make 250 secrets cheaply). moto gaps: no movable clock (recovery-window expiry, creation order),
 * no call log, no throttling; those tests run on the server only.
 *
 * Where moto and the API reference differ, the reference wins and only the server is held to it (`documented`):
 * moto 5.2.1 accepts names over 512 characters, outside A-Za-z0-9/_+=.@- and empty; SecretString over 65,536 bytes;
 * ListSecrets MaxResults outside 1..100 (and answers a foreign NextToken with a 500); BatchGetSecretValue with over
 * 20 ids or MaxResults over 20; PutSecretValue on a secret scheduled for deletion; CreateSecret of a scheduled name
 * with ResourceExistsException instead of InvalidRequestException; and it lists versions without staging labels in
 * DescribeSecret VersionIdsToStages and in ListSecretVersionIds without IncludeDeprecated. None of these is relied
 * on by secretsync, which checks names and sizes itself before writing.
 */
const documented = !onMoto

const REGION = 'us-east-1'
const DAY_MS = 86_400_000
const OTHER_ACCOUNT = '222222222222'

let clock: number
let sm: SecretsManagerClient
let account: string

beforeEach(() => {
  // Start at the real time so request signatures stay valid; tests move the clock forward only.
  clock = Date.now()
})
const endpoint = useAwsEndpoint(() => ({now: () => clock}))
/** The project's server; only `serverOnly` tests (and seeding through `seed`) reach for it. */
const projectServer = (): AwsServer => {
  const {server} = endpoint.current()
  if (!server) throw new Error('this test needs the project server')
  return server
}

const clientFor = (
  credentials: {accessKeyId: string; secretAccessKey: string; sessionToken?: string},
  options: {region?: string; maxAttempts?: number} = {},
): SecretsManagerClient =>
  new SecretsManagerClient({
    endpoint: endpoint.current().url,
    region: options.region ?? REGION,
    credentials,
    ...options,
  })

interface SeedOptions {
  tags?: Record<string, string>
  description?: string
  scheduledForDeletion?: boolean
}

/** An existing secret: from state on the server, through CreateSecret (and DeleteSecret) on moto. Returns its VersionId. */
async function seed(name: string, value: string, options: SeedOptions = {}): Promise<string> {
  const {server} = endpoint.current()
  if (server)
    return server.secretsManager.seedSecret(account, REGION, {
      name,
      value,
      tags: options.tags ?? {},
      ...(options.description && {description: options.description}),
      ...(options.scheduledForDeletion && {scheduledForDeletion: true}),
    }).versionId
  const created = await sm.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: value,
      Description: options.description,
      Tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({Key, Value})),
    }),
  )
  if (options.scheduledForDeletion) await sm.send(new DeleteSecretCommand({SecretId: name, RecoveryWindowInDays: 7}))
  return created.VersionId ?? ''
}

/** An edit made outside secretsync: state on the server, PutSecretValue on moto. Returns the new VersionId. */
async function putOutOfBand(name: string, value: string): Promise<string> {
  const {server} = endpoint.current()
  if (server) return server.secretsManager.putValueOutOfBand(account, REGION, name, value).versionId
  return (await sm.send(new PutSecretValueCommand({SecretId: name, SecretString: value}))).VersionId ?? ''
}

/** The rejection of a call that must fail, for assertions on its name and status. */
async function failureOf(call: Promise<unknown>): Promise<Error & {$metadata?: {httpStatusCode?: number}}> {
  try {
    await call
  } catch (error) {
    return error as Error & {$metadata?: {httpStatusCode?: number}}
  }
  throw new Error('expected the call to fail, it succeeded')
}

async function listAll(input: {Filters?: Filter[]; IncludePlannedDeletion?: boolean} = {}): Promise<SecretListEntry[]> {
  const entries: SecretListEntry[] = []
  let token: string | undefined
  do {
    const page = await sm.send(new ListSecretsCommand({...input, NextToken: token}))
    entries.push(...(page.SecretList ?? []))
    token = page.NextToken
  } while (token)
  return entries
}

const namesOf = (entries: SecretListEntry[]): string[] => entries.map((e) => e.Name ?? '').sort()

beforeEach(() => {
  sm = clientFor(endpoint.current().base)
  account = endpoint.current().baseAccountId
})

afterEach(() => {
  sm.destroy()
})

describe('CreateSecret', () => {
  it('returns an ARN with a random 6-character suffix and a UUID version labelled AWSCURRENT', async () => {
    const created = await sm.send(new CreateSecretCommand({Name: 'app/db', SecretString: '{"a":1}'}))

    expect(created.ARN).toMatch(
      new RegExp(`^arn:aws:secretsmanager:${REGION}:${account}:secret:app/db-[A-Za-z0-9]{6}$`),
    )
    expect(created.VersionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    const value = await sm.send(new GetSecretValueCommand({SecretId: 'app/db'}))
    expect(value).toMatchObject({SecretString: '{"a":1}', VersionId: created.VersionId, VersionStages: ['AWSCURRENT']})
    expect(value.CreatedDate).toBeInstanceOf(Date)
  })

  it('refuses a second secret with the same name with ResourceExistsException', async () => {
    await sm.send(new CreateSecretCommand({Name: 'dup', SecretString: 'one'}))

    const error = await failureOf(sm.send(new CreateSecretCommand({Name: 'dup', SecretString: 'two'})))

    expect(error.name).toBe('ResourceExistsException')
    expect(error.$metadata?.httpStatusCode).toBe(400)
    expect((await sm.send(new GetSecretValueCommand({SecretId: 'dup'}))).SecretString).toBe('one')
  })

  it('treats a retry with the same ClientRequestToken and value as the same call, and a changed value as a conflict', async () => {
    const token = randomUUID()
    const first = await sm.send(new CreateSecretCommand({Name: 'retry', SecretString: 'v', ClientRequestToken: token}))

    const again = await sm.send(new CreateSecretCommand({Name: 'retry', SecretString: 'v', ClientRequestToken: token}))
    const changed = await failureOf(
      sm.send(new CreateSecretCommand({Name: 'retry', SecretString: 'other', ClientRequestToken: token})),
    )

    expect(again.VersionId).toBe(first.VersionId)
    expect(first.VersionId).toBe(token)
    expect(changed.name).toBe('ResourceExistsException')
    const versions = await sm.send(new ListSecretVersionIdsCommand({SecretId: 'retry', IncludeDeprecated: true}))
    expect(versions.Versions).toHaveLength(1)
  })

  it('accepts a 512-character name and rejects 513 characters and characters outside A-Za-z0-9/_+=.@-', async () => {
    const longest = 'n'.repeat(511) + '/'

    const created = await sm.send(new CreateSecretCommand({Name: longest, SecretString: 'v'}))
    expect(created.Name).toBe(longest)
    if (!documented) return
    const tooLong = await failureOf(sm.send(new CreateSecretCommand({Name: 'n'.repeat(513), SecretString: 'v'})))
    const badChar = await failureOf(sm.send(new CreateSecretCommand({Name: 'has space', SecretString: 'v'})))
    const empty = await failureOf(sm.send(new CreateSecretCommand({Name: '', SecretString: 'v'})))

    expect(tooLong.name).toBe('ValidationException')
    expect(badChar.name).toBe('InvalidParameterException')
    expect(empty.name).toBe('ValidationException')
    expect(namesOf(await listAll())).toEqual([longest])
  })

  it('accepts a 65,536-byte SecretString and rejects 65,537 bytes, counting bytes, not characters', async () => {
    // 'é' is two bytes in UTF-8: 32,768 of them are 65,536 bytes in fewer characters.
    const maxBytes = 'é'.repeat(32_768)

    await sm.send(new CreateSecretCommand({Name: 'big', SecretString: maxBytes}))
    expect((await sm.send(new GetSecretValueCommand({SecretId: 'big'}))).SecretString).toBe(maxBytes)
    if (!documented) return
    const tooBig = await failureOf(sm.send(new PutSecretValueCommand({SecretId: 'big', SecretString: maxBytes + 'a'})))
    const tooBigCreate = await failureOf(
      sm.send(new CreateSecretCommand({Name: 'big2', SecretString: 'a'.repeat(65_537)})),
    )

    expect((await sm.send(new GetSecretValueCommand({SecretId: 'big'}))).SecretString).toBe(maxBytes)
    expect(tooBig.name).toBe('ValidationException')
    expect(tooBigCreate.name).toBe('ValidationException')
    expect(
      (await sm.send(new ListSecretVersionIdsCommand({SecretId: 'big', IncludeDeprecated: true}))).Versions,
    ).toHaveLength(1)
  })

  it('stores Tags, Description and KmsKeyId, which DescribeSecret reports', async () => {
    await sm.send(
      new CreateSecretCommand({
        Name: 'described',
        SecretString: 'v',
        Description: 'Managed by secretsync',
        KmsKeyId: 'alias/secretsync',
        Tags: [
          {Key: 'secretsync:owner', Value: 'main'},
          {Key: 'secretsync:target', Value: 'prod'},
        ],
      }),
    )

    const described = await sm.send(new DescribeSecretCommand({SecretId: 'described'}))

    expect(described).toMatchObject({
      Name: 'described',
      Description: 'Managed by secretsync',
      KmsKeyId: 'alias/secretsync',
      Tags: [
        {Key: 'secretsync:owner', Value: 'main'},
        {Key: 'secretsync:target', Value: 'prod'},
      ],
    })
    expect(described.LastChangedDate).toBeInstanceOf(Date)
    expect(described.DeletedDate).toBeUndefined()
    expect(Object.values(described.VersionIdsToStages ?? {})).toEqual([['AWSCURRENT']])
  })
})

describe('PutSecretValue and version labels', () => {
  it('moves AWSCURRENT to the new version and AWSPREVIOUS to the one before, dropping older labels', async () => {
    const v1 = (await sm.send(new CreateSecretCommand({Name: 'labels', SecretString: '1'}))).VersionId ?? ''
    const v2 = (await sm.send(new PutSecretValueCommand({SecretId: 'labels', SecretString: '2'}))).VersionId ?? ''
    const put3 = await sm.send(new PutSecretValueCommand({SecretId: 'labels', SecretString: '3'}))
    const v3 = put3.VersionId ?? ''

    const stages = (await sm.send(new DescribeSecretCommand({SecretId: 'labels'}))).VersionIdsToStages

    expect(put3.VersionStages).toEqual(['AWSCURRENT'])
    // "A list of the versions of the secret that have staging labels attached" (moto also lists v1 with none)
    if (documented) expect(stages).toEqual({[v3]: ['AWSCURRENT'], [v2]: ['AWSPREVIOUS']})
    expect(Object.fromEntries(Object.entries(stages ?? {}).filter(([, labels]) => labels.length > 0))).toEqual({
      [v3]: ['AWSCURRENT'],
      [v2]: ['AWSPREVIOUS'],
    })
    const previous = await sm.send(new GetSecretValueCommand({SecretId: 'labels', VersionStage: 'AWSPREVIOUS'}))
    expect(previous.SecretString).toBe('2')
    const byId = await sm.send(new GetSecretValueCommand({SecretId: 'labels', VersionId: v1}))
    expect(byId).toMatchObject({SecretString: '1', VersionStages: []})
  })

  it('ignores a retried PutSecretValue with the same token and value, and refuses the token with another value', async () => {
    await sm.send(new CreateSecretCommand({Name: 'put-retry', SecretString: 'a'}))
    const token = randomUUID()

    const first = await sm.send(
      new PutSecretValueCommand({SecretId: 'put-retry', SecretString: 'b', ClientRequestToken: token}),
    )
    const retry = await sm.send(
      new PutSecretValueCommand({SecretId: 'put-retry', SecretString: 'b', ClientRequestToken: token}),
    )
    const conflict = await failureOf(
      sm.send(new PutSecretValueCommand({SecretId: 'put-retry', SecretString: 'c', ClientRequestToken: token})),
    )

    expect(retry.VersionId).toBe(first.VersionId)
    expect(conflict.name).toBe('ResourceExistsException')
    const versions = await sm.send(new ListSecretVersionIdsCommand({SecretId: 'put-retry'}))
    expect(versions.Versions).toHaveLength(2)
    expect((await sm.send(new GetSecretValueCommand({SecretId: 'put-retry'}))).SecretString).toBe('b')
  })

  it('answers ResourceNotFoundException for a secret that does not exist', async () => {
    const error = await failureOf(sm.send(new PutSecretValueCommand({SecretId: 'missing', SecretString: 'v'})))

    expect(error.name).toBe('ResourceNotFoundException')
  })

  it('answers GetSecretValue for an unknown version, a mismatched stage and a secret without value as documented', async () => {
    const {VersionId: v1} = await sm.send(new CreateSecretCommand({Name: 'versions', SecretString: '1'}))
    await sm.send(new PutSecretValueCommand({SecretId: 'versions', SecretString: '2'}))
    await sm.send(new CreateSecretCommand({Name: 'empty'}))

    const unknownVersion = await failureOf(
      sm.send(new GetSecretValueCommand({SecretId: 'versions', VersionId: randomUUID()})),
    )
    const mismatch = await failureOf(
      sm.send(new GetSecretValueCommand({SecretId: 'versions', VersionId: v1, VersionStage: 'AWSCURRENT'})),
    )
    const noValue = await failureOf(sm.send(new GetSecretValueCommand({SecretId: 'empty'})))
    const described = await sm.send(new DescribeSecretCommand({SecretId: 'empty'}))

    expect(unknownVersion.name).toBe('ResourceNotFoundException')
    expect(mismatch.name).toBe('InvalidRequestException')
    expect(noValue.name).toBe('ResourceNotFoundException')
    // No version, so no labelled one; the reference does not say whether the empty map is sent (moto omits it)
    expect(described.VersionIdsToStages ?? {}).toEqual({})
  })

  it('round-trips a SecretBinary value', async () => {
    const bytes = Uint8Array.from([0, 1, 2, 250, 255])

    await sm.send(new CreateSecretCommand({Name: 'binary', SecretBinary: bytes}))
    const value = await sm.send(new GetSecretValueCommand({SecretId: 'binary'}))

    expect(value.SecretString).toBeUndefined()
    expect(Array.from(value.SecretBinary ?? [])).toEqual([0, 1, 2, 250, 255])
  })

  serverOnly('moto looks the rotation Lambda up in its Lambda service, and this suite deploys none')(
    'RotateSecret with RotateImmediately false configures rotation; ListSecrets and DescribeSecret say RotationEnabled',
    async () => {
      await sm.send(new CreateSecretCommand({Name: 'rotated', SecretString: 'v'}))
      await sm.send(new CreateSecretCommand({Name: 'plain', SecretString: 'v'}))
      await sm.send(
        new RotateSecretCommand({
          SecretId: 'rotated',
          RotationLambdaARN: 'arn:aws:lambda:us-east-1:111111111111:function:rotate',
          RotationRules: {AutomaticallyAfterDays: 30},
          RotateImmediately: false,
        }),
      )
      const listed = await sm.send(new ListSecretsCommand({}))
      const byName = new Map((listed.SecretList ?? []).map((entry) => [entry.Name, entry]))
      expect(byName.get('rotated')?.RotationEnabled).toBe(true)
      expect(byName.get('plain')?.RotationEnabled ?? false).toBe(false)
      const described = await sm.send(new DescribeSecretCommand({SecretId: 'rotated'}))
      expect(described.RotationEnabled).toBe(true)
      expect(described.RotationRules?.AutomaticallyAfterDays).toBe(30)
    },
  )

  it('PutSecretValue with SecretBinary, read back byte for byte by BatchGetSecretValue (a base64 blob in JSON)', async () => {
    await sm.send(new CreateSecretCommand({Name: 'binary-batch', SecretBinary: Uint8Array.from([1])}))
    await sm.send(new PutSecretValueCommand({SecretId: 'binary-batch', SecretBinary: Uint8Array.from([0, 255, 0])}))
    const batch = await sm.send(new BatchGetSecretValueCommand({SecretIdList: ['binary-batch']}))

    expect(batch.SecretValues?.[0]?.SecretString).toBeUndefined()
    expect(Array.from(batch.SecretValues?.[0]?.SecretBinary ?? [])).toEqual([0, 255, 0])
  })

  it('finds a secret by full ARN and by partial ARN (without the random suffix)', async () => {
    const {ARN: arn = ''} = await sm.send(new CreateSecretCommand({Name: 'by-arn', SecretString: 'v'}))
    const partial = arn.slice(0, -7)

    const full = await sm.send(new GetSecretValueCommand({SecretId: arn}))
    const viaPartial = await sm.send(new DescribeSecretCommand({SecretId: partial}))

    expect(full.Name).toBe('by-arn')
    expect(viaPartial.ARN).toBe(arn)
  })

  it('UpdateSecret changes the description and, with a value, makes a new AWSCURRENT version', async () => {
    await sm.send(new CreateSecretCommand({Name: 'upd', SecretString: 'old', Description: 'before'}))

    const updated = await sm.send(new UpdateSecretCommand({SecretId: 'upd', SecretString: 'new', Description: 'after'}))

    expect(updated.VersionId).toBeDefined()
    expect((await sm.send(new GetSecretValueCommand({SecretId: 'upd'}))).SecretString).toBe('new')
    expect((await sm.send(new DescribeSecretCommand({SecretId: 'upd'}))).Description).toBe('after')
  })

  it('shows an out-of-band edit (putValueOutOfBand) as a new AWSCURRENT version in ListSecrets', async () => {
    const seeded = await seed('drifty', '{"a":1}')

    const edit = await putOutOfBand('drifty', '{"a":2}')
    const [entry] = await listAll({Filters: [{Key: 'name', Values: ['drifty']}]})

    expect(entry?.SecretVersionsToStages).toEqual({
      [edit]: ['AWSCURRENT'],
      [seeded]: ['AWSPREVIOUS'],
    })
    expect((await sm.send(new GetSecretValueCommand({SecretId: 'drifty'}))).SecretString).toBe('{"a":2}')
  })
})

describe('ListSecrets', () => {
  it('pages 250 secrets 100 at a time with NextToken, each entry carrying SecretVersionsToStages', async () => {
    const seeded = new Map<string, string>()
    for (let i = 0; i < 250; i++) {
      const name = `bulk/s${String(i).padStart(3, '0')}`
      seeded.set(name, await seed(name, `v${i}`))
    }

    const sizes: number[] = []
    const entries: SecretListEntry[] = []
    let token: string | undefined
    do {
      const page = await sm.send(new ListSecretsCommand({NextToken: token}))
      sizes.push(page.SecretList?.length ?? 0)
      entries.push(...(page.SecretList ?? []))
      token = page.NextToken
    } while (token)

    expect(sizes).toEqual([100, 100, 50])
    expect(new Set(entries.map((e) => e.Name)).size).toBe(250)
    for (const entry of entries) {
      expect(entry.SecretVersionsToStages).toEqual({[seeded.get(entry.Name ?? '') ?? '']: ['AWSCURRENT']})
      expect(entry.ARN).toMatch(new RegExp(`:secret:${entry.Name}-[A-Za-z0-9]{6}$`))
    }
  })

  it('honours MaxResults within 1..100 and refuses others and foreign NextTokens', async () => {
    for (let i = 0; i < 5; i++) await seed(`m${i}`, 'v')

    const small = await sm.send(new ListSecretsCommand({MaxResults: 2}))
    expect(small.SecretList).toHaveLength(2)
    expect(small.NextToken).toBeTruthy()
    if (!documented) return
    const tooMany = await failureOf(sm.send(new ListSecretsCommand({MaxResults: 101})))
    const zero = await failureOf(sm.send(new ListSecretsCommand({MaxResults: 0})))
    const forged = await failureOf(sm.send(new ListSecretsCommand({NextToken: 'bm90LWEtdG9rZW4='})))

    expect(small.SecretList).toHaveLength(2)
    expect(small.NextToken).toBeTruthy()
    expect(tooMany.name).toBe('ValidationException')
    expect(zero.name).toBe('ValidationException')
    expect(forged.name).toBe('InvalidNextTokenException')
  })

  it('filters by name prefix (case-sensitive), tag key and value, description (case-insensitive), negation and all', async () => {
    await seed('team-a/db', 'v', {
      tags: {'secretsync:owner': 'main', env: 'prod'},
      description: 'Managed by secretsync',
    })
    await seed('team-a/api', 'v', {tags: {'secretsync:owner': 'main', env: 'dev'}})
    await seed('team-b/db', 'v', {tags: {owner: 'someone'}, description: 'hand made'})
    await seed('Team-a/upper', 'v')

    const byName = await listAll({Filters: [{Key: 'name', Values: ['team-a/']}]})
    const byTagKey = await listAll({Filters: [{Key: 'tag-key', Values: ['secretsync:']}]})
    const byTagValue = await listAll({Filters: [{Key: 'tag-value', Values: ['pro']}]})
    const byDescription = await listAll({Filters: [{Key: 'description', Values: ['MANAGED by']}]})
    const negated = await listAll({Filters: [{Key: 'name', Values: ['!team-a/']}]})
    const anded = await listAll({
      Filters: [
        {Key: 'name', Values: ['team-a/']},
        {Key: 'tag-value', Values: ['dev']},
      ],
    })
    const ored = await listAll({Filters: [{Key: 'name', Values: ['team-b/', 'Team-']}]})
    const all = await listAll({Filters: [{Key: 'all', Values: ['someone']}]})
    const badKey = await failureOf(
      sm.send(new ListSecretsCommand({Filters: [{Key: 'colour' as 'name', Values: ['x']}]})),
    )

    expect(namesOf(byName)).toEqual(['team-a/api', 'team-a/db'])
    expect(namesOf(byTagKey)).toEqual(['team-a/api', 'team-a/db'])
    expect(namesOf(byTagValue)).toEqual(['team-a/db'])
    expect(namesOf(byDescription)).toEqual(['team-a/db'])
    expect(namesOf(negated)).toEqual(['Team-a/upper', 'team-b/db'])
    expect(namesOf(anded)).toEqual(['team-a/api'])
    expect(namesOf(ored)).toEqual(['Team-a/upper', 'team-b/db'])
    expect(namesOf(all)).toEqual(['team-b/db'])
    expect(badKey.name).toBe('ValidationException')
  })

  serverOnly('creation order needs the movable clock')(
    'sorts by SortBy and SortOrder, by creation date ascending when neither is given',
    async () => {
      for (const name of ['b', 'c', 'a']) {
        projectServer().secretsManager.seedSecret(account, REGION, {name, value: 'v'})
        clock += 1000
      }

      const byDefault = await sm.send(new ListSecretsCommand({}))
      const byNameDesc = await sm.send(new ListSecretsCommand({SortBy: 'name', SortOrder: 'desc'}))

      expect(byDefault.SecretList?.map((e) => e.Name)).toEqual(['b', 'c', 'a'])
      expect(byNameDesc.SecretList?.map((e) => e.Name)).toEqual(['c', 'b', 'a'])
    },
  )

  it('leaves out secrets scheduled for deletion unless IncludePlannedDeletion, then shows DeletedDate', async () => {
    await seed('live', 'v')
    await seed('doomed', 'v', {scheduledForDeletion: true})

    const plain = await listAll()
    const withPlanned = await listAll({IncludePlannedDeletion: true})

    expect(namesOf(plain)).toEqual(['live'])
    expect(namesOf(withPlanned)).toEqual(['doomed', 'live'])
    expect(withPlanned.find((e) => e.Name === 'doomed')?.DeletedDate).toBeInstanceOf(Date)
    expect(withPlanned.find((e) => e.Name === 'live')?.DeletedDate).toBeUndefined()
  })

  // secretsync tells its own secrets from others' by these tags, before and without reading any value.
  it('carries each entry’s Tags, also in a name-filtered listing and for a secret scheduled for deletion', async () => {
    await seed('own/db', 'v', {tags: {'managed-by': 'secretsync', 'secretsync:target': 'app'}})
    await seed('own/legacy', 'v', {tags: {team: 'payments'}})
    await seed('own/bare', 'v')
    await seed('own/gone', 'v', {tags: {'managed-by': 'secretsync'}, scheduledForDeletion: true})

    const entries = await listAll({
      Filters: [{Key: 'name', Values: ['own/db', 'own/legacy', 'own/bare', 'own/gone']}],
      IncludePlannedDeletion: true,
    })
    const tagsOf = (name: string) =>
      Object.fromEntries((entries.find((e) => e.Name === name)?.Tags ?? []).map((t) => [t.Key, t.Value]))

    expect(namesOf(entries)).toEqual(['own/bare', 'own/db', 'own/gone', 'own/legacy'])
    expect(tagsOf('own/db')).toEqual({'managed-by': 'secretsync', 'secretsync:target': 'app'})
    expect(tagsOf('own/legacy')).toEqual({team: 'payments'})
    expect(tagsOf('own/bare')).toEqual({})
    expect(tagsOf('own/gone')).toEqual({'managed-by': 'secretsync'})
  })
})

describe('DeleteSecret and RestoreSecret', () => {
  it('accepts recovery windows of 7 and 30 days, refuses 6 and 31, and refuses combining it with force', async () => {
    for (const name of ['w7', 'w30', 'wdefault', 'w6', 'w31', 'both']) await seed(name, 'v')

    const seven = await sm.send(new DeleteSecretCommand({SecretId: 'w7', RecoveryWindowInDays: 7}))
    const thirty = await sm.send(new DeleteSecretCommand({SecretId: 'w30', RecoveryWindowInDays: 30}))
    const byDefault = await sm.send(new DeleteSecretCommand({SecretId: 'wdefault'}))
    const six = await failureOf(sm.send(new DeleteSecretCommand({SecretId: 'w6', RecoveryWindowInDays: 6})))
    const thirtyOne = await failureOf(sm.send(new DeleteSecretCommand({SecretId: 'w31', RecoveryWindowInDays: 31})))
    const both = await failureOf(
      sm.send(new DeleteSecretCommand({SecretId: 'both', RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true})),
    )

    // DeletionDate is the request time plus the window; DescribeSecret's DeletedDate is "the date the secret is
    // scheduled for deletion" (API reference), the same instant. moto's clock is its own, so only the server is
    // held to the exact request time.
    const deletedDate = async (id: string) =>
      (await sm.send(new DescribeSecretCommand({SecretId: id}))).DeletedDate?.getTime()
    for (const [response, id, days] of [
      [seven, 'w7', 7],
      [thirty, 'w30', 30],
      [byDefault, 'wdefault', 30],
    ] as const) {
      expect(response.DeletionDate?.getTime()).toBe(await deletedDate(id))
      if (!onMoto) expect(response.DeletionDate?.getTime()).toBe(clock + days * DAY_MS)
    }
    expect(six.name).toBe('InvalidParameterException')
    expect(thirtyOne.name).toBe('InvalidParameterException')
    expect(both.name).toBe('InvalidParameterException')
    expect(namesOf(await listAll())).toEqual(['both', 'w31', 'w6'])
  })

  it('refuses PutSecretValue, GetSecretValue and CreateSecret of the name while scheduled; RestoreSecret brings it back', async () => {
    await seed('paused', 'before')
    await sm.send(new DeleteSecretCommand({SecretId: 'paused', RecoveryWindowInDays: 7}))

    const get = await failureOf(sm.send(new GetSecretValueCommand({SecretId: 'paused'})))
    const described = await sm.send(new DescribeSecretCommand({SecretId: 'paused'}))

    expect(get.name).toBe('InvalidRequestException')
    expect(described.DeletedDate).toBeInstanceOf(Date)
    if (documented) {
      const put = await failureOf(sm.send(new PutSecretValueCommand({SecretId: 'paused', SecretString: 'x'})))
      const create = await failureOf(sm.send(new CreateSecretCommand({Name: 'paused', SecretString: 'x'})))
      expect(put.name).toBe('InvalidRequestException')
      expect(create.name).toBe('InvalidRequestException')
      expect(create.message).toBe(
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
      )
      expect(described.DeletedDate?.getTime()).toBe(clock + 7 * DAY_MS)
    }

    await sm.send(new RestoreSecretCommand({SecretId: 'paused'}))
    await sm.send(new PutSecretValueCommand({SecretId: 'paused', SecretString: 'after'}))

    expect((await sm.send(new GetSecretValueCommand({SecretId: 'paused'}))).SecretString).toBe('after')
    expect((await sm.send(new DescribeSecretCommand({SecretId: 'paused'}))).DeletedDate).toBeUndefined()
  })

  serverOnly('moto cannot move time past the recovery window')(
    'really removes the secret once the recovery window has elapsed, freeing the name',
    async () => {
      await seed('expiring', 'v')
      await sm.send(new DeleteSecretCommand({SecretId: 'expiring', RecoveryWindowInDays: 7}))

      clock += 7 * DAY_MS - 1
      const stillThere = await sm.send(new DescribeSecretCommand({SecretId: 'expiring'}))
      clock += 1
      const gone = await failureOf(sm.send(new DescribeSecretCommand({SecretId: 'expiring'})))
      const restore = await failureOf(sm.send(new RestoreSecretCommand({SecretId: 'expiring'})))
      const recreated = await sm.send(new CreateSecretCommand({Name: 'expiring', SecretString: 'fresh'}))

      expect(stillThere.DeletedDate).toBeInstanceOf(Date)
      expect(gone.name).toBe('ResourceNotFoundException')
      expect(restore.name).toBe('ResourceNotFoundException')
      expect(recreated.Name).toBe('expiring')
    },
  )

  it('deletes at once with ForceDeleteWithoutRecovery, which also succeeds for a secret that does not exist', async () => {
    await seed('forced', 'v')

    await sm.send(new DeleteSecretCommand({SecretId: 'forced', ForceDeleteWithoutRecovery: true}))
    const missing = await sm.send(new DeleteSecretCommand({SecretId: 'never-was', ForceDeleteWithoutRecovery: true}))
    const plainMissing = await failureOf(sm.send(new DeleteSecretCommand({SecretId: 'never-was'})))

    expect((await failureOf(sm.send(new DescribeSecretCommand({SecretId: 'forced'})))).name).toBe(
      'ResourceNotFoundException',
    )
    expect(missing.DeletionDate).toBeInstanceOf(Date)
    expect(plainMissing.name).toBe('ResourceNotFoundException')
  })
})

describe('BatchGetSecretValue', () => {
  it('returns up to 20 secrets by id, reporting missing ones in Errors, and refuses 21 ids', async () => {
    const ids: string[] = []
    for (let i = 0; i < 18; i++) {
      await seed(`batch/${i}`, `value-${i}`)
      ids.push(`batch/${i}`)
    }
    ids.push('batch/missing-1', 'batch/missing-2')

    const batch = await sm.send(new BatchGetSecretValueCommand({SecretIdList: ids}))

    expect(batch.SecretValues).toHaveLength(18)
    expect(batch.SecretValues?.find((v) => v.Name === 'batch/7')).toMatchObject({
      SecretString: 'value-7',
      VersionStages: ['AWSCURRENT'],
    })
    expect(batch.Errors?.map((e) => [e.SecretId, e.ErrorCode])).toEqual([
      ['batch/missing-1', 'ResourceNotFoundException'],
      ['batch/missing-2', 'ResourceNotFoundException'],
    ])
    if (!documented) return
    const tooMany = await failureOf(sm.send(new BatchGetSecretValueCommand({SecretIdList: [...ids, 'one-more']})))
    expect(tooMany.name).toBe('ValidationException')
  })

  // moto 5.2.1 fails the whole BatchGetSecretValue call for a secret without a value instead of listing it in Errors.
  serverOnly('moto fails the whole batch for a secret without a value')(
    'a secret without any version (CreateSecret without a value) answers ResourceNotFoundException, as a missing one does; ListSecrets still lists it',
    async () => {
      // APIErrorType documents ErrorCode values such as ResourceNotFoundException; GetSecretValue answers a secret
      // without AWSCURRENT with ResourceNotFoundException too, so the batch cannot tell "no value" from "no secret".
      await sm.send(
        new CreateSecretCommand({Name: 'empty', Tags: [{Key: 'k', Value: 'v'}], Description: 'placeholder'}),
      )

      const batch = await sm.send(new BatchGetSecretValueCommand({SecretIdList: ['empty', 'absent']}))
      const [listed] = await listAll({Filters: [{Key: 'name', Values: ['empty']}]})

      expect(batch.SecretValues).toEqual([])
      expect(batch.Errors?.map((e) => [e.SecretId, e.ErrorCode])).toEqual([
        ['empty', 'ResourceNotFoundException'],
        ['absent', 'ResourceNotFoundException'],
      ])
      expect(listed).toMatchObject({
        Name: 'empty',
        Description: 'placeholder',
        Tags: [{Key: 'k', Value: 'v'}],
        SecretVersionsToStages: {},
      })
    },
  )

  it('pages by Filters with MaxResults up to 20, and needs Filters for MaxResults', async () => {
    for (let i = 0; i < 25; i++) await seed(`f/${i}`, `${i}`)
    await seed('other', 'x')
    const filters: Filter[] = [{Key: 'name', Values: ['f/']}]

    const first = await sm.send(new BatchGetSecretValueCommand({Filters: filters, MaxResults: 20}))
    const second = await sm.send(
      new BatchGetSecretValueCommand({Filters: filters, MaxResults: 20, NextToken: first.NextToken}),
    )
    const noFilters = await failureOf(sm.send(new BatchGetSecretValueCommand({SecretIdList: ['f/1'], MaxResults: 5})))

    expect(first.SecretValues).toHaveLength(20)
    expect(second.SecretValues).toHaveLength(5)
    expect(second.NextToken).toBeUndefined()
    expect(noFilters.name).toBe('InvalidParameterException')
    if (!documented) return
    const over = await failureOf(sm.send(new BatchGetSecretValueCommand({Filters: filters, MaxResults: 21})))
    expect(over.name).toBe('ValidationException')
  })
})

describe('tags, versions and isolation', () => {
  it('TagResource adds or replaces tags by key and UntagResource removes them', async () => {
    await seed('tagged', 'v', {tags: {a: '1', b: '2'}})

    await sm.send(
      new TagResourceCommand({
        SecretId: 'tagged',
        Tags: [
          {Key: 'b', Value: '3'},
          {Key: 'c', Value: '4'},
        ],
      }),
    )
    await sm.send(new UntagResourceCommand({SecretId: 'tagged', TagKeys: ['a']}))

    const {Tags: tags = []} = await sm.send(new DescribeSecretCommand({SecretId: 'tagged'}))
    expect(Object.fromEntries(tags.map((t) => [t.Key, t.Value]))).toEqual({b: '3', c: '4'})
  })

  it('ListSecretVersionIds hides unlabelled versions unless IncludeDeprecated', async () => {
    await sm.send(new CreateSecretCommand({Name: 'many', SecretString: '1'}))
    for (const value of ['2', '3', '4'])
      await sm.send(new PutSecretValueCommand({SecretId: 'many', SecretString: value}))

    const labelled = await sm.send(new ListSecretVersionIdsCommand({SecretId: 'many'}))
    const everything = await sm.send(new ListSecretVersionIdsCommand({SecretId: 'many', IncludeDeprecated: true}))

    // "By default, versions without staging labels aren't included" (moto 5.2.1 includes them)
    if (documented) expect(labelled.Versions?.map((v) => v.VersionStages)).toEqual([['AWSPREVIOUS'], ['AWSCURRENT']])
    expect(everything.Versions).toHaveLength(4)
  })

  it('keeps accounts apart: a second account sees none of the first one’s secrets and may reuse names', async () => {
    await sm.send(new CreateSecretCommand({Name: 'shared/name', SecretString: 'first'}))
    const other = clientFor(await endpoint.current().credentialsIn(OTHER_ACCOUNT))

    const before = await other.send(new ListSecretsCommand({}))
    const missing = await failureOf(other.send(new GetSecretValueCommand({SecretId: 'shared/name'})))
    const created = await other.send(new CreateSecretCommand({Name: 'shared/name', SecretString: 'second'}))
    const theirs = await other.send(new GetSecretValueCommand({SecretId: 'shared/name'}))
    other.destroy()

    expect(before.SecretList).toEqual([])
    expect(missing.name).toBe('ResourceNotFoundException')
    expect(created.ARN).toContain(`:${OTHER_ACCOUNT}:secret:shared/name-`)
    expect((await sm.send(new GetSecretValueCommand({SecretId: 'shared/name'}))).SecretString).toBe('first')
    expect(theirs.SecretString).toBe('second')
  })

  it('keeps regions apart within an account', async () => {
    await sm.send(new CreateSecretCommand({Name: 'regional', SecretString: 'east'}))
    const west = clientFor(endpoint.current().base, {region: 'eu-west-1'})

    const listed = await west.send(new ListSecretsCommand({}))
    const missing = await failureOf(west.send(new GetSecretValueCommand({SecretId: 'regional'})))
    west.destroy()

    expect(listed.SecretList).toEqual([])
    expect(missing.name).toBe('ResourceNotFoundException')
  })

  serverOnly("the write log is the project server's own")(
    'records write calls, but not reads, in the write log',
    async () => {
      await sm.send(new CreateSecretCommand({Name: 'logged', SecretString: '1'}))
      await sm.send(new PutSecretValueCommand({SecretId: 'logged', SecretString: '2'}))
      await sm.send(new GetSecretValueCommand({SecretId: 'logged'}))
      await sm.send(new ListSecretsCommand({}))

      const writes = projectServer().secretsManager.writeCalls({accountId: account, region: REGION})

      expect(writes.map((w) => `${w.operation} ${w.secretId}`)).toEqual([
        'CreateSecret logged',
        'PutSecretValue logged',
      ])
    },
  )
})

describe('replication (ReplicateSecretToRegions, RemoveRegionsFromReplication, AddReplicaRegions)', () => {
  // Reference vs moto 5.2.1: a write to a replica and DeleteSecret of a primary with replicas fail with
  // InvalidRequestException per the reference, InvalidParameterException on moto; moto omits PrimaryRegion for a
  // primary (the server reports its own region once it has replicas) and returns ReplicationStatus in ListSecrets
  // too (not in SecretListEntry, so the SDK drops it); RemoveRegionsFromReplication of a region that is not
  // replicated is ignored by both (the reference is silent).
  const refusal = documented ? ['InvalidRequestException'] : ['InvalidRequestException', 'InvalidParameterException']
  const EU = 'eu-west-1'
  const US_WEST = 'us-west-2'

  it('creates with AddReplicaRegions: the replica is listed, described and read in its region, naming its primary', async () => {
    const created = await sm.send(
      new CreateSecretCommand({Name: 'rep/a', SecretString: 'v1', AddReplicaRegions: [{Region: EU}]}),
    )
    expect(created.ReplicationStatus).toEqual([
      expect.objectContaining({Region: EU, Status: expect.stringMatching(/^(InSync|InProgress)$/)}),
    ])
    const primary = await sm.send(new DescribeSecretCommand({SecretId: 'rep/a'}))
    expect(primary.ReplicationStatus?.map((r) => r.Region)).toEqual([EU])

    const eu = clientFor(endpoint.current().base, {region: EU})
    const replica = await eu.send(new DescribeSecretCommand({SecretId: 'rep/a'}))
    const listed = await eu.send(new ListSecretsCommand({}))
    const value = await eu.send(new GetSecretValueCommand({SecretId: 'rep/a'}))
    eu.destroy()
    expect(replica.PrimaryRegion).toBe(REGION)
    expect(replica.ARN).toContain(`:${EU}:${account}:secret:rep/a-`)
    expect(listed.SecretList?.map((e) => [e.Name, e.PrimaryRegion])).toEqual([['rep/a', REGION]])
    expect(value.SecretString).toBe('v1')
    // SecretListEntry has no ReplicationStatus: the primary's listing says nothing about its replicas.
    const [entry] = await listAll()
    expect((entry as Record<string, unknown>).ReplicationStatus).toBeUndefined()
  })

  it('replicas follow the primary and refuse writes; a primary with replicas cannot be deleted', async () => {
    await sm.send(new CreateSecretCommand({Name: 'rep/b', SecretString: 'v1', AddReplicaRegions: [{Region: EU}]}))
    await sm.send(new PutSecretValueCommand({SecretId: 'rep/b', SecretString: 'v2'}))
    const eu = clientFor(endpoint.current().base, {region: EU})
    const followed = await eu.send(new GetSecretValueCommand({SecretId: 'rep/b'}))
    const write = await failureOf(eu.send(new PutSecretValueCommand({SecretId: 'rep/b', SecretString: 'x'})))
    eu.destroy()
    expect(followed.SecretString).toBe('v2')
    expect(refusal).toContain(write.name)

    const deletion = await failureOf(sm.send(new DeleteSecretCommand({SecretId: 'rep/b', RecoveryWindowInDays: 7})))
    expect(refusal).toContain(deletion.name)
    await sm.send(new RemoveRegionsFromReplicationCommand({SecretId: 'rep/b', RemoveReplicaRegions: [EU]}))
    await sm.send(new DeleteSecretCommand({SecretId: 'rep/b', RecoveryWindowInDays: 7}))
  })

  it('adds a region with ReplicateSecretToRegions and removes one with RemoveRegionsFromReplication', async () => {
    await sm.send(new CreateSecretCommand({Name: 'rep/c', SecretString: 'v1', AddReplicaRegions: [{Region: EU}]}))
    const added = await sm.send(
      new ReplicateSecretToRegionsCommand({SecretId: 'rep/c', AddReplicaRegions: [{Region: US_WEST}]}),
    )
    expect(added.ReplicationStatus?.map((r) => r.Region)).toContain(US_WEST)
    const removed = await sm.send(
      new RemoveRegionsFromReplicationCommand({SecretId: 'rep/c', RemoveReplicaRegions: [EU]}),
    )
    expect(removed.ReplicationStatus?.map((r) => r.Region)).toEqual([US_WEST])
    const eu = clientFor(endpoint.current().base, {region: EU})
    const gone = await failureOf(eu.send(new DescribeSecretCommand({SecretId: 'rep/c'})))
    eu.destroy()
    expect(gone.name).toBe('ResourceNotFoundException')
    const described = await sm.send(new DescribeSecretCommand({SecretId: 'rep/c'}))
    expect(described.ReplicationStatus?.map((r) => r.Region)).toEqual([US_WEST])
  })

  it('reports a replication into a region that holds a same-named secret as Failed, with a message, leaving that secret alone', async () => {
    const eu = clientFor(endpoint.current().base, {region: EU})
    await eu.send(new CreateSecretCommand({Name: 'rep/d', SecretString: 'theirs'}))
    const created = await sm.send(
      new CreateSecretCommand({Name: 'rep/d', SecretString: 'ours', AddReplicaRegions: [{Region: EU}]}),
    )
    const theirs = await eu.send(new GetSecretValueCommand({SecretId: 'rep/d'}))
    eu.destroy()
    expect(created.ReplicationStatus).toEqual([expect.objectContaining({Region: EU, Status: 'Failed'})])
    expect(created.ReplicationStatus?.[0]?.StatusMessage).toBeTruthy()
    expect(theirs.SecretString).toBe('theirs')
    const described = await sm.send(new DescribeSecretCommand({SecretId: 'rep/d'}))
    expect(described.ReplicationStatus?.[0]?.Status).toBe('Failed')
  })

  it('refuses replicating into the secret’s own region', async () => {
    await sm.send(new CreateSecretCommand({Name: 'rep/e', SecretString: 'v'}))
    const own = await failureOf(
      sm.send(new ReplicateSecretToRegionsCommand({SecretId: 'rep/e', AddReplicaRegions: [{Region: REGION}]})),
    )
    expect(own.name).toBe('InvalidParameterException')
  })
})

describe('throttling', () => {
  serverOnly('moto has no throttling')(
    'surfaces a quota as the SDK error ThrottlingException when the client does not retry',
    async () => {
      projectServer().controls.setQuota({service: 'secretsmanager', ratePerSecond: 1, burst: 1})
      const once = clientFor({accessKeyId: 'test', secretAccessKey: 'test'}, {maxAttempts: 1})

      await once.send(new ListSecretsCommand({}))
      const throttled = await failureOf(once.send(new ListSecretsCommand({})))
      once.destroy()

      expect(throttled.name).toBe('ThrottlingException')
      expect(projectServer().controls.throttled({service: 'secretsmanager', operation: 'ListSecrets'})).toBe(1)
    },
  )
})
