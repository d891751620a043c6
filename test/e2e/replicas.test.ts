import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {quietPipelineConfigText, runPipelineJson, secretsManagerWrites, THREE_SECRETS_STACK} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'
import type {SyncJson} from '../../src/report/sync-json.js'

// Issue 16 item 3, replica regions: stories of `secretsync pipeline` against the test stack, whose Secrets Manager
// keeps replicas per the API reference (read-only in their region, following the primary, listed with PrimaryRegion).

const ACCOUNT = '111111111111'
const REGION = 'us-east-1'
const EU = 'eu-west-1'
const US_WEST = 'us-west-2'

let stack: TestStack
let config: string

const target = (replicas: string, extra = '') =>
  `  - {name: app, account_id: "${ACCOUNT}", imports: [base]${replicas ? `, replica_regions: [${replicas}]` : ''}${extra}}\n`
const writeConfig = (targets: string, settings = ''): Promise<string> =>
  writeTempConfig(quietPipelineConfigText(targets, settings, REGION))
const pipeline = (...args: string[]) => runPipelineJson<SyncJson>(stack.env, config, args)
const sm = () => stack.aws.secretsManager
const replicaRegions = (name: string) => (sm().getSecret(ACCOUNT, REGION, name)?.replicas ?? []).map((r) => r.region)
const count = (operation: string) => stack.controls.count({service: 'secretsmanager', operation})
const NAMES = ['db', 'svc/api', 'svc/cfg']

beforeEach(async () => {
  stack = await startTestStack(THREE_SECRETS_STACK)
})
afterEach(async () => {
  await stack.close()
})

describe('replica regions', () => {
  it('creates with AddReplicaRegions; replicas follow the primary; a re-run plans nothing and costs one ListSecrets', async () => {
    config = await writeConfig(target(`{region: ${EU}}`))
    const first = await pipeline()
    expect(first.code, first.stderr).toBe(0)
    expect(first.json.summary).toMatchObject({created: 3, replicas_added: 3, replicas_removed: 0})
    expect(first.json.targets[0]?.changes.map((c) => c.replicas_added)).toEqual([[EU], [EU], [EU]])
    for (const name of NAMES) {
      expect(replicaRegions(name)).toEqual([EU])
      const replica = sm().getSecret(ACCOUNT, EU, name)
      expect(replica?.primaryRegion).toBe(REGION)
      expect(replica?.value).toBe(sm().getSecret(ACCOUNT, REGION, name)?.value)
    }
    // Replication came with CreateSecret: no separate call.
    expect(count('ReplicateSecretToRegions')).toBe(0)

    stack.controls.resetCounters()
    const again = await pipeline()
    expect(again.code).toBe(0)
    expect(again.json.summary).toMatchObject({unchanged: 3, created: 0, updated: 0})
    expect(again.json.summary.replicas_added).toBeUndefined()
    expect(count('ListSecrets')).toBe(1)
    expect(count('DescribeSecret')).toBe(0)
    expect(secretsManagerWrites(stack.controls)).toBe(0)

    // A value change is written to the primary only; the replica follows.
    stack.vault.putSecret('secret/', 'base/db', {user: 'app', password: 'pw-2'})
    const changed = await pipeline()
    expect(changed.json.summary).toMatchObject({updated: 1})
    expect(sm().getSecret(ACCOUNT, EU, 'db')?.value).toBe('{"user":"app","password":"pw-2"}')
    expect(sm().writeCalls({region: EU})).toEqual([])
  })

  it('adding a region is planned per secret and applied with ReplicateSecretToRegions; removing one with RemoveRegionsFromReplication', async () => {
    config = await writeConfig(target(`{region: ${EU}}`))
    await pipeline()

    config = await writeConfig(target(`{region: ${EU}}, {region: ${US_WEST}, kms_key_id: alias/replica}`))
    const plan = await pipeline('--dry-run')
    expect(plan.code).toBe(0)
    expect(plan.json.targets[0]?.changes).toEqual(
      NAMES.map((name) => expect.objectContaining({action: 'update', name, replicas_added: [US_WEST], error: null})),
    )
    expect(plan.json.summary).toMatchObject({updated: 3, replicas_added: 3})
    const text = await runCli(['pipeline', '-c', config, '--dry-run', '-o', 'text'], {env: stack.env})
    expect(text.stdout).toContain(`+ replica ${US_WEST}`)
    expect(text.stdout).toContain('replicas +3 -0')
    const compact = await runCli(['pipeline', '-c', config, '--dry-run', '-o', 'compact'], {env: stack.env})
    expect(compact.stdout).toContain(' replicas=+3/-0')

    stack.controls.resetCounters()
    const added = await pipeline()
    expect(added.code).toBe(0)
    expect(count('ReplicateSecretToRegions')).toBe(3)
    expect(count('PutSecretValue')).toBe(0)
    for (const name of NAMES) expect(replicaRegions(name)).toEqual([EU, US_WEST])
    expect(sm().getSecret(ACCOUNT, US_WEST, 'db')?.kmsKeyId).toBe('alias/replica')

    stack.controls.resetCounters()
    const quiet = await pipeline()
    expect(quiet.json.summary).toMatchObject({unchanged: 3})
    expect(count('ListSecrets') + count('DescribeSecret') + secretsManagerWrites(stack.controls)).toBe(1)

    config = await writeConfig(target(`{region: ${US_WEST}, kms_key_id: alias/replica}`))
    const removed = await pipeline()
    expect(removed.json.targets[0]?.changes).toEqual(
      NAMES.map((name) => expect.objectContaining({action: 'update', name, replicas_removed: [EU]})),
    )
    expect(count('RemoveRegionsFromReplication')).toBe(3)
    for (const name of NAMES) {
      expect(replicaRegions(name)).toEqual([US_WEST])
      expect(sm().getSecret(ACCOUNT, EU, name)).toBeUndefined()
    }

    // No replica_regions at all: every replica goes, and the replicas tag with them.
    config = await writeConfig(target(''))
    const none = await pipeline()
    expect(none.json.summary).toMatchObject({updated: 3, replicas_removed: 3})
    expect(replicaRegions('db')).toEqual([])
    expect(sm().getSecret(ACCOUNT, REGION, 'db')?.tags['secretsync:replicas']).toBeUndefined()
    stack.controls.resetCounters()
    expect((await pipeline()).json.summary).toMatchObject({unchanged: 3})
    expect(count('DescribeSecret') + secretsManagerWrites(stack.controls)).toBe(0)
  })

  it('a Failed replication is reported per secret with its region and message (exit 3), on every run until fixed (exit 1 when nothing else succeeded)', async () => {
    // A secret of the same name already in the replica region: AWS reports the replication Failed.
    sm().seedSecret(ACCOUNT, EU, {name: 'db', value: 'someone else'})
    config = await writeConfig(target(`{region: ${EU}}`))
    const first = await pipeline()
    expect(first.code, first.stderr).toBe(3)
    const db = first.json.targets[0]?.changes.find((c) => c.name === 'db')
    expect(db?.error).toContain(`replication to ${EU} failed`)
    expect(db?.error).toContain('already exists')
    expect(first.json.summary).toMatchObject({created: 2, failed: 1})
    expect(sm().getSecret(ACCOUNT, EU, 'db')?.value).toBe('someone else')
    // The primary itself was written: only its replica failed.
    expect(sm().getSecret(ACCOUNT, REGION, 'db')?.value).toBe('{"user":"app","password":"pw-1"}')

    stack.controls.resetCounters()
    const again = await pipeline()
    // Nothing else to do, so nothing succeeded beside the failure: exit 1 (docs/design.md §2), not 3.
    expect(again.code, again.stderr).toBe(1)
    expect(again.json.targets[0]?.changes).toEqual([
      expect.objectContaining({name: 'db', error: expect.stringContaining(`replication to ${EU} failed`)}),
    ])
    expect(count('DescribeSecret')).toBe(1)
    expect(count('ReplicateSecretToRegions')).toBe(0)
  })

  it('deleting a replicated orphan removes its replicas first; a replica in the prefix is never written or deleted', async () => {
    config = await writeConfig(target(`{region: ${EU}}`), 'sync: {delete_orphans: true}\n')
    await pipeline()
    stack.vault.deleteLatest('secret/', 'base/svc/cfg')
    const plan = await pipeline('--dry-run')
    expect(plan.json.targets[0]?.changes).toEqual([
      expect.objectContaining({action: 'delete', name: 'svc/cfg', replicas_removed: [EU]}),
    ])

    stack.controls.resetCounters()
    const run = await pipeline()
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.summary).toMatchObject({deleted: 1, replicas_removed: 1})
    const order = sm()
      .writeCalls({region: REGION})
      .filter((w) => w.secretId === 'svc/cfg')
      .map((w) => w.operation)
    expect(order).toEqual(['CreateSecret', 'RemoveRegionsFromReplication', 'DeleteSecret'])
    expect(sm().getSecret(ACCOUNT, EU, 'svc/cfg')).toBeUndefined()
    expect(sm().getSecret(ACCOUNT, REGION, 'svc/cfg')?.deletedDate).toBeDefined()

    // A target in the replica region whose names are the replicas: conflicts, nothing written there.
    config = await writeConfig(
      `  - {name: eu, account_id: "${ACCOUNT}", region: ${EU}, imports: [base]}\n`,
      'sync: {delete_orphans: true}\n',
    )
    stack.controls.resetCounters()
    const eu = await pipeline()
    expect(eu.code).not.toBe(0)
    const db = eu.json.targets[0]?.changes.find((c) => c.name === 'db')
    expect(db).toMatchObject({action: 'conflict'})
    expect(db?.error).toContain(`replica of the secret in ${REGION}`)
    expect(sm().writeCalls({region: EU})).toEqual([])
  })
})
