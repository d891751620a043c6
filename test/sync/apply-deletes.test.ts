import {CreateSecretCommand, SecretsManagerClient, TagResourceCommand} from '@aws-sdk/client-secrets-manager'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {applyChanges, type ApplyOptions} from '../../src/sync/apply.js'
import {desiredSecret, planTarget, type CurrentSecret, type PlannedChange} from '../../src/sync/plan.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Deleting orphans that are primaries of replicas (AWS refuses DeleteSecret on one until its replicas are
// removed): what is read and what is written, through applyChanges against the test Secrets Manager over HTTP.

const REGION = 'us-east-1'
const EU = 'eu-west-1'
const REPLICAS_TAG = 'secretsync:replicas'

let stack: TestStack
let client: SecretsManagerClient

beforeEach(async () => {
  stack = await startTestStack({})
  client = new SecretsManagerClient({endpoint: stack.aws.url, region: REGION, credentials: stack.aws.base})
})
afterEach(async () => {
  client.destroy()
  await stack.close()
})

const account = () => stack.aws.base.accountId
const count = (operation: string) => stack.controls.count({service: 'secretsmanager', operation})
const create = async (name: string, replicated: boolean, tags: Record<string, string> = {}) => {
  await client.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: '{"v":1}',
      ...(replicated ? {AddReplicaRegions: [{Region: EU}]} : {}),
    }),
  )
  const list = Object.entries(tags).map(([Key, Value]) => ({Key, Value}))
  if (list.length > 0) await client.send(new TagResourceCommand({SecretId: name, Tags: list}))
}
/** An orphan as ListSecrets shows it: ours, with `tags` (and the PrimaryRegion AWS reports, when given). */
const orphan = (name: string, tags: Record<string, string>, primaryRegion?: string): CurrentSecret => ({
  name,
  owned: true,
  ownerTarget: 'app',
  scheduledForDeletion: false,
  ...(primaryRegion === undefined ? {} : {primaryRegion}),
  currentVersionId: 'v1',
  metadata: {tags},
})

/** The deletions the planner makes of `orphans` (the target still wants one other secret). */
const plannedDeletions = (...orphans: CurrentSecret[]): PlannedChange[] =>
  planTarget([desiredSecret('keep', 'app/', {v: 1})], new Map(orphans.map((o) => [o.name, o])), undefined, {
    target: 'app',
    prefix: 'app/',
    region: REGION,
    adopt: false,
    showValues: false,
    deleteOrphans: true,
    metadata: {tags: {}},
    incomplete: [],
  }).changes.filter((change) => change.action === 'delete')

/** Applies `changes`, counting the write turns taken from the limiter. */
async function apply(changes: PlannedChange[]) {
  let turns = 0
  const options: ApplyOptions = {
    limiterKey: `${account()}-${REGION}`,
    metadata: {tags: {}},
    recoveryWindowDays: 7,
    forceDelete: false,
    limiter: {
      acquire: () => {
        turns += 1
        return Promise.resolve()
      },
    },
    runId: 'test',
    now: Date.now,
  }
  const result = await applyChanges(client, changes, options)
  return {result, turns}
}

describe('deleting replicated orphans', () => {
  it('a primary the replicas tag records is described (a read, not a write turn), its replicas removed, then deleted', async () => {
    // Given a secret replicated to EU, as secretsync recorded it
    await create('app/a', true, {[REPLICAS_TAG]: EU})
    stack.controls.resetCounters()

    // When its deletion is applied
    const {result, turns} = await apply(plannedDeletions(orphan('app/a', {[REPLICAS_TAG]: EU}, REGION)))

    // Then it is gone with its replica, and only the two writes took write turns
    expect(result.changes).toEqual([expect.objectContaining({name: 'app/a', error: null, replicas_removed: [EU]})])
    expect(stack.aws.secretsManager.getSecret(account(), REGION, 'app/a')?.deletedDate).toBeDefined()
    expect(stack.aws.secretsManager.getSecret(account(), EU, 'app/a')).toBeUndefined()
    expect([count('DescribeSecret'), count('RemoveRegionsFromReplication'), count('DeleteSecret')]).toEqual([1, 1, 1])
    expect(turns).toBe(2)
  })

  it('an unreplicated orphan is deleted with no DescribeSecret, whatever ListSecrets says of its primary region', async () => {
    // Given an unreplicated secret that ListSecrets reports with its own region as PrimaryRegion (the API
    // reference: "The Region where Secrets Manager originated the secret", any secret)
    const plan = plannedDeletions(orphan('app/b', {}, REGION))
    await create('app/b', false)
    stack.controls.resetCounters()

    // When the planned deletion is applied
    expect(plan).toEqual([expect.objectContaining({action: 'delete', name: 'app/b'})])
    const {result, turns} = await apply(plan)

    // Then one DeleteSecret did it
    expect(result.changes[0]?.error).toBeNull()
    expect([count('DescribeSecret'), count('DeleteSecret')]).toEqual([0, 1])
    expect(turns).toBe(1)
  })

  it('a primary with replicas the tag does not record (added outside secretsync) still loses them and is deleted', async () => {
    // Given a secret replicated outside secretsync: no replicas tag says so
    await create('app/c', true)
    stack.controls.resetCounters()

    // When its deletion is applied as planned for an unreplicated secret
    const {result} = await apply(plannedDeletions(orphan('app/c', {}, REGION)))

    // Then AWS's refusal is answered by removing what DescribeSecret reports, and the delete sent again
    expect(result.changes).toEqual([expect.objectContaining({name: 'app/c', error: null, replicas_removed: [EU]})])
    expect(stack.aws.secretsManager.getSecret(account(), REGION, 'app/c')?.deletedDate).toBeDefined()
    expect([count('DeleteSecret'), count('DescribeSecret'), count('RemoveRegionsFromReplication')]).toEqual([2, 1, 1])
  })
})
