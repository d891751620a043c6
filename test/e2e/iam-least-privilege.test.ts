import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput, pipelineConfigText} from '../support/e2e.js'
import {enforceIam, loadPolicy, type CheckedCall, type IamEnforcement} from '../support/aws/iam-policies.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Real runs of `secretsync pipeline` with the example target policies (examples/iam/) in front of the test
// server's Secrets Manager, evaluated by an IAM policy simulator: every Secrets Manager call the product makes is
// authorized as IAM would, and denied ones fail as AccessDeniedException. What the runs call is the list the
// policy must cover, so a new call the policy lacks fails here; what they must not call (values of secrets they
// do not own, tagging a secret that is not theirs) fails here too.

const ACCOUNT = '123456789012' // the target account of the example policies, used as they are
const REGION = 'us-east-1'

const TARGET_ROLE = {name: 'target-role', policy: loadPolicy('secretsync-target-role.json')}
const DELETE_ORPHANS = {name: 'delete-orphans', policy: loadPolicy('secretsync-delete-orphans-policy.json')}
const ADOPT = {name: 'adopt', policy: loadPolicy('secretsync-adopt-policy.json')}
const RESOURCE_POLICY = {name: 'resource-policy', policy: loadPolicy('secretsync-resource-policy-policy.json')}

interface SyncJson {
  summary: Record<string, number>
  targets: Array<{
    name: string
    status: string
    error: string | null
    changes: Array<{action: string; name: string; error: string | null}>
  }>
}

let stack: TestStack
let iam: IamEnforcement

const enforce = (...policies: Array<typeof TARGET_ROLE>): void => {
  iam = enforceIam({targetRole: policies}, stack.aws)
  stack.aws.intercept(iam.interceptor)
}

const targetYaml = (tags: string, kms = '') =>
  `  - name: app\n    account_id: "${ACCOUNT}"\n    imports: [base]\n    secret_prefix: app/\n    tags: ${tags}\n${kms}`

const pipeline = async (options: {tags?: string; kms?: string; sync?: string; args?: string[]} = {}) => {
  const config = await writeTempConfig(
    pipelineConfigText({
      targets: targetYaml(options.tags ?? '{team: payments, cost: c1}', options.kms ?? ''),
      extra: `logging: {level: error}\n${options.sync ? `sync: ${options.sync}\n` : ''}`,
    }),
  )
  const result = await runCli(['pipeline', '-c', config, '--json', ...(options.args ?? [])], {env: stack.env})
  return {...result, json: parseJsonOutput<SyncJson>(result)}
}

const changeOf = (json: SyncJson, name: string) => json.targets[0]?.changes.find((c) => c.name === name)
const pairs = (calls: readonly CheckedCall[]) => [...new Set(calls.map((c) => `${c.action} ${c.state}`))].sort()
const deniedCalls = (calls: readonly CheckedCall[]) =>
  calls.filter((c) => c.decision !== 'Allowed').map((c) => `${c.action} ${c.state} ${c.resource}`)
const valueReads = (calls: readonly CheckedCall[]) =>
  calls.filter((c) => c.action === 'secretsmanager:GetSecretValue').map((c) => `${c.state} ${c.resource}`)

beforeEach(async () => {
  stack = await startTestStack({
    vault: {
      secrets: {
        'secret/base/db': {user: 'app', password: 'pw-1'},
        'secret/base/api': {key: 'k-1'},
        'secret/base/legacy': {v: 'vault'},
        'secret/base/tf': {v: 'vault'},
        'secret/base/peer': {v: 'vault'},
      },
    },
    aws: {
      buckets: ['merge-store'],
      secrets: [
        // Same names, not ours: no ownership tag, another owner's tag, another secretsync target's.
        {account: ACCOUNT, name: 'app/legacy', value: {v: 'hand-made'}, tags: {team: 'payments'}},
        {account: ACCOUNT, name: 'app/tf', value: {v: 'terraform'}, tags: {'managed-by': 'terraform'}},
        {
          account: ACCOUNT,
          name: 'app/peer',
          value: {v: 'peer'},
          tags: {'managed-by': 'secretsync', 'secretsync:target': 'other'},
        },
      ],
    },
  })
})
afterEach(async () => {
  stack.aws.intercept(undefined)
  await stack.close()
})

describe('the default target role (secretsync-target-role.json) covers every call of create, update, metadata, restore and no-change runs', () => {
  it('no call is denied, conflicts are reported without reading their values, and the calls made are exactly the listed ones', async () => {
    enforce(TARGET_ROLE)
    const all: CheckedCall[] = []

    const first = await pipeline()
    expect(first.json.summary).toMatchObject({created: 2, conflicts: 3, failed: 0})
    for (const name of ['app/legacy', 'app/tf', 'app/peer'])
      expect(changeOf(first.json, name)?.action, name).toBe('conflict')
    expect(stack.aws.secretsManager.getSecret(ACCOUNT, REGION, 'app/legacy')?.value).toBe('{"v":"hand-made"}')
    all.push(...iam.calls)
    iam.calls.length = 0

    // A value change, a changed and a dropped tag, a new KMS key: reads and writes of owned secrets only.
    stack.vault.putSecret('secret/', 'base/db', {user: 'app', password: 'pw-2'})
    const second = await pipeline({tags: '{team: risk}', kms: '    kms_key_id: alias/secretsync\n'})
    expect(second.json.summary).toMatchObject({updated: 2, failed: 0})
    all.push(...iam.calls)
    iam.calls.length = 0

    // Scheduled for deletion out of band, then restored by the next run.
    const sm = stack.aws.secretsManager
    sm.scheduleDeletion(ACCOUNT, REGION, sm.lookup(ACCOUNT, REGION, 'app/api')!, 7)
    const third = await pipeline({tags: '{team: risk}', kms: '    kms_key_id: alias/secretsync\n'})
    expect(third.json.summary).toMatchObject({restored: 1, failed: 0})
    all.push(...iam.calls)
    iam.calls.length = 0

    stack.controls.resetCounters()
    const quiet = await pipeline({tags: '{team: risk}', kms: '    kms_key_id: alias/secretsync\n'})
    expect(quiet.json.summary).toMatchObject({created: 0, updated: 0, restored: 0, unchanged: 2, conflicts: 3})
    expect(pairs(iam.calls)).toEqual(['secretsmanager:ListSecrets any'])
    // One page of the target's own secrets, one name lookup for the three conflicts (10 names a call); no value read.
    expect(stack.controls.count({service: 'secretsmanager', operation: 'ListSecrets'})).toBe(2)
    expect(stack.controls.count({service: 'secretsmanager'})).toBe(2)
    all.push(...iam.calls)

    expect(deniedCalls(all)).toEqual([])
    expect(valueReads(all).every((read) => read.startsWith('owned '))).toBe(true)
    expect(pairs(all)).toEqual([
      'secretsmanager:BatchGetSecretValue any',
      'secretsmanager:CreateSecret new',
      'secretsmanager:GetSecretValue owned',
      'secretsmanager:ListSecrets any',
      'secretsmanager:PutSecretValue owned',
      'secretsmanager:RestoreSecret owned',
      'secretsmanager:TagResource new',
      'secretsmanager:TagResource owned',
      'secretsmanager:UntagResource owned',
      'secretsmanager:UpdateSecret owned',
    ])
  })
})

describe('the base identity (merge-store-policy.json, discovery-policy.json)', () => {
  it('a pipeline with Organizations and Identity Center discovery and the merge store makes only calls the policies allow', async () => {
    await stack.close()
    const accounts = [
      {id: ACCOUNT, name: 'payments', tags: {Environment: 'prod'}},
      {id: '210987654321', name: 'sandbox', tags: {Environment: 'dev'}},
    ]
    stack = await startTestStack({
      vault: {secrets: {'secret/base/db': {user: 'app'}}},
      aws: {
        buckets: ['my-secrets-merge-store'],
        organization: {accounts},
        identity_center: {
          permission_sets: [{name: 'SecretSync', provisioned: [ACCOUNT]}],
          groups: [{name: 'Platform', assignments: [{account: ACCOUNT, permission_set: 'SecretSync'}]}],
        },
      },
    })
    iam = enforceIam(
      {
        targetRole: [TARGET_ROLE],
        base: {
          principal: 'arn:aws:iam::111111111111:role/secretsync-runner',
          accountId: '111111111111',
          policies: [
            {name: 'merge-store', policy: loadPolicy('merge-store-policy.json')},
            {name: 'discovery', policy: loadPolicy('discovery-policy.json')},
          ],
        },
      },
      stack.aws,
    )
    stack.aws.intercept(iam.interceptor)
    const target = (name: string) =>
      `target: {name: "${name}-{{account_name}}", imports: [base], secret_prefix: ${name}/}`
    const config = await writeTempConfig(
      pipelineConfigText({
        bucket: 'my-secrets-merge-store',
        targets: '  []\n',
        extra: `discovery:
  - {name: org, type: aws_organizations, filters: [{tag: Environment, values: ["prod*"]}], ${target('org')}}
  - {name: sso, type: aws_identity_center, group: Platform, ${target('sso')}}
  - {name: ps, type: aws_identity_center, permission_set: SecretSync, ${target('ps')}}
logging: {level: error}
`,
      }).replace('  bucket: my-secrets-merge-store\n', '  bucket: my-secrets-merge-store\n  prefix: merged/\n'),
    )

    for (let run = 0; run < 2; run++) {
      const result = await runCli(['pipeline', '-c', config, '--json'], {env: stack.env})
      const json = parseJsonOutput<SyncJson>(result)
      expect(json.summary, result.stderr).toMatchObject({targets: 3, failed_targets: 0, failed: 0})
      expect(json.summary.created).toBe(run === 0 ? 3 : 0)
    }
    expect(deniedCalls(iam.calls)).toEqual([])
    expect(pairs(iam.calls.filter((c) => !c.action.startsWith('secretsmanager:')))).toEqual([
      'identitystore:GetGroupId any',
      'organizations:DescribeAccount any',
      'organizations:ListAccountsForParent any',
      'organizations:ListOrganizationalUnitsForParent any',
      'organizations:ListRoots any',
      'organizations:ListTagsForResource any',
      's3:DeleteObject any',
      's3:GetObject any',
      's3:ListBucket any',
      's3:PutObject any',
      'sso:DescribePermissionSet any',
      'sso:ListAccountAssignments any',
      'sso:ListAccountsForProvisionedPermissionSet any',
      'sso:ListInstances any',
      'sso:ListPermissionSets any',
    ])
    // Everything in the bucket is under the prefix the policy names.
    expect(
      iam.calls
        .filter((c) => c.action.startsWith('s3:') && c.action !== 's3:ListBucket')
        .every((c) => c.resource.startsWith('arn:aws:s3:::my-secrets-merge-store/merged/')),
    ).toBe(true)
  })
})

describe('opt-in statements', () => {
  it('sync.delete_orphans deletes only with secretsync-delete-orphans-policy.json; without it the deletion fails as denied and nothing is deleted', async () => {
    enforce(TARGET_ROLE)
    await pipeline()
    stack.vault.deleteLatest('secret/', 'base/api')

    const refused = await pipeline({sync: '{delete_orphans: true}'})
    expect(changeOf(refused.json, 'app/api')).toMatchObject({
      action: 'delete',
      error: expect.stringContaining('AccessDeniedException'),
    })
    expect(stack.aws.secretsManager.getSecret(ACCOUNT, REGION, 'app/api')).toBeDefined()
    expect(deniedCalls(iam.calls)).toEqual([expect.stringMatching(/^secretsmanager:DeleteSecret owned /)])

    enforce(TARGET_ROLE, DELETE_ORPHANS)
    const deleted = await pipeline({sync: '{delete_orphans: true}'})
    expect(deleted.json.summary).toMatchObject({deleted: 1, failed: 0})
    expect(deniedCalls(iam.calls)).toEqual([])
  })

  it('resource_policy works only with secretsync-resource-policy-policy.json; without it every policy read fails as denied and nothing is put', async () => {
    const policy = `    resource_policy: '{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "secretsmanager:DeleteSecret", "Resource": "*"}}'\n`
    enforce(TARGET_ROLE)
    await pipeline()
    const refused = await pipeline({kms: policy})
    expect(changeOf(refused.json, 'app/db')?.error).toContain('AccessDeniedException')
    expect(deniedCalls(iam.calls).every((call) => call.startsWith('secretsmanager:GetResourcePolicy owned '))).toBe(
      true,
    )
    expect(stack.aws.secretsManager.getSecret(ACCOUNT, REGION, 'app/db')?.resourcePolicy).toBeUndefined()

    enforce(TARGET_ROLE, RESOURCE_POLICY)
    const put = await pipeline({kms: policy})
    expect(put.json.summary).toMatchObject({policies: 2, failed: 0})
    expect(deniedCalls(iam.calls)).toEqual([])
    expect(stack.aws.secretsManager.getSecret(ACCOUNT, REGION, 'app/db')?.resourcePolicy).toBeDefined()
    const removed = await pipeline()
    expect(removed.json.summary).toMatchObject({policies: 2, failed: 0})
    expect(deniedCalls(iam.calls)).toEqual([])
  })

  it('--adopt takes over a secret without an ownership tag only with secretsync-adopt-policy.json, and never another owner’s', async () => {
    // Also one without the tag that someone scheduled for deletion: adopting it restores it first.
    stack.aws.secretsManager.seedSecret(ACCOUNT, REGION, {
      name: 'app/old',
      value: '{"v":"old"}',
      scheduledForDeletion: true,
    })
    stack.vault.putSecret('secret/', 'base/old', {v: 'vault'})
    enforce(TARGET_ROLE)
    const refused = await pipeline({args: ['--adopt']})
    expect(changeOf(refused.json, 'app/legacy')?.error).toContain('AccessDeniedException')
    expect(changeOf(refused.json, 'app/old')).toMatchObject({
      action: 'restore',
      error: expect.stringContaining('AccessDeniedException'),
    })
    expect(stack.aws.secretsManager.getSecret(ACCOUNT, REGION, 'app/legacy')?.tags['managed-by']).toBeUndefined()
    expect(stack.controls.count({service: 'secretsmanager', operation: 'TagResource'})).toBe(0)

    enforce(TARGET_ROLE, ADOPT)
    const adopted = await pipeline({args: ['--adopt']})
    expect(changeOf(adopted.json, 'app/legacy')).toMatchObject({action: 'update', error: null})
    const legacy = stack.aws.secretsManager.getSecret(ACCOUNT, REGION, 'app/legacy')
    expect(legacy?.tags).toMatchObject({'managed-by': 'secretsync', 'secretsync:target': 'app'})
    expect(legacy?.value).toBe('{"v":"vault"}')
    expect(changeOf(adopted.json, 'app/old')).toMatchObject({action: 'restore', error: null})
    expect(stack.aws.secretsManager.getSecret(ACCOUNT, REGION, 'app/old')?.tags['managed-by']).toBe('secretsync')
    // Another owner's secret stays theirs: its value is not readable, so it is not written either.
    expect(changeOf(adopted.json, 'app/tf')?.error).toContain('AccessDeniedException')
    expect(stack.aws.secretsManager.getSecret(ACCOUNT, REGION, 'app/tf')?.value).toBe('{"v":"terraform"}')
    // Another target's secret is a conflict whatever --adopt says, and its value is never read.
    expect(changeOf(adopted.json, 'app/peer')?.action).toBe('conflict')
    expect(valueReads(iam.calls).filter((read) => read.includes(':secret:app/peer'))).toEqual([])
    expect(pairs(iam.calls.filter((c) => c.decision === 'Allowed'))).toEqual([
      'secretsmanager:BatchGetSecretValue any',
      'secretsmanager:GetSecretValue unowned',
      'secretsmanager:ListSecrets any',
      'secretsmanager:PutSecretValue owned',
      'secretsmanager:RestoreSecret unowned',
      'secretsmanager:TagResource unowned',
      'secretsmanager:UpdateSecret owned',
    ])
  })
})
