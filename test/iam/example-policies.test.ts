import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {
  creationChecks,
  decide,
  EXAMPLES_IAM,
  loadPolicy,
  tagChecks,
  type Decision,
  type IamCheck,
  type PolicyDocument,
} from '../support/aws/iam-policies.js'

// The example policies of examples/iam/, evaluated by an IAM policy simulator (@cloud-copilot/iam-simulate) for
// each action secretsync calls, on secrets it owns, secrets without the ownership tag, and secrets another owner
// tagged. test/e2e/iam-least-privilege.test.ts puts the same policies in front of a real run.

const TARGET = '123456789012'
const BASE = '111111111111'
const ROLE = `arn:aws:iam::${TARGET}:role/SecretSync`
const REGION = 'us-east-1'
const arn = (name: string) => `arn:aws:secretsmanager:${REGION}:${TARGET}:secret:${name}-AbCdEf`

const target = {name: 'target-role', policy: loadPolicy('secretsync-target-role.json')}
const deleteOrphans = {name: 'delete-orphans', policy: loadPolicy('secretsync-delete-orphans-policy.json')}
const adopt = {name: 'adopt', policy: loadPolicy('secretsync-adopt-policy.json')}
const replicas = {name: 'replicas', policy: loadPolicy('secretsync-replicas-policy.json')}
const resourcePolicy = {name: 'resource-policy', policy: loadPolicy('secretsync-resource-policy-policy.json')}

const OWNED = {'managed-by': 'secretsync', 'secretsync:target': 'app', team: 'payments'}
const UNOWNED = {team: 'payments'}
const OTHER_OWNER = {'managed-by': 'terraform'}
const OWNERSHIP_TAGS = {'managed-by': 'secretsync', 'secretsync:target': 'app'}

type Policies = Array<{name: string; policy: PolicyDocument}>
const run = (policies: Policies, check: Pick<IamCheck, 'action' | 'resource' | 'context'>): Promise<Decision> =>
  decide(policies, check, ROLE, TARGET)

const resourceTags = (tags: Record<string, string>) =>
  Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]))
const on = (action: string, name: string, tags: Record<string, string>, extra: IamCheck['context'] = {}) => ({
  action: `secretsmanager:${action}`,
  resource: arn(name),
  context: {'secretsmanager:SecretId': name, ...resourceTags(tags), ...extra},
})

const STATES = {owned: OWNED, unowned: UNOWNED, 'other-owner': OTHER_OWNER} as const

describe('examples/iam/secretsync-target-role.json (the default target role)', () => {
  it('lists, and batch-reads, without a resource (neither action has a resource type)', async () => {
    for (const action of ['secretsmanager:ListSecrets', 'secretsmanager:BatchGetSecretValue'])
      expect(await run([target], {action, resource: '*', context: {}}), action).toBe('Allowed')
  })

  it.each(Object.entries(STATES))('reads the value of a secret only when it owns it: %s', async (state, tags) => {
    expect(await run([target], on('GetSecretValue', 'app/db', tags))).toBe(
      state === 'owned' ? 'Allowed' : 'ImplicitlyDenied',
    )
  })

  it('creates a secret only with the ownership tag, and the TagResource that CreateSecret-with-Tags needs is allowed either way IAM builds its context', async () => {
    for (const resourceTagsKnown of [true, false]) {
      for (const check of creationChecks(arn('app/new'), 'app/new', OWNERSHIP_TAGS, resourceTagsKnown))
        expect(await run([target], check), `${check.action} (resource tags known: ${resourceTagsKnown})`).toBe(
          'Allowed',
        )
    }
    const [bare] = creationChecks(arn('app/new'), 'app/new', {})
    expect(await run([target], bare!)).toBe('ImplicitlyDenied')
    for (const tags of [
      {'managed-by': 'terraform'} as Record<string, string>,
      {'Managed-By': 'secretsync'}, // tag keys are case-sensitive, condition key names are not: aws:TagKeys catches it
      {'secretsync:target': 'app'},
    ]) {
      const [create] = creationChecks(arn('app/new'), 'app/new', tags)
      expect(await run([target], create!), JSON.stringify(tags)).not.toBe('Allowed')
    }
  })

  it('tags only its own secrets: the ownership tag never goes onto a secret that lacks it or that another owner tagged', async () => {
    const add = {'managed-by': 'secretsync', 'secretsync:target': 'app'}
    expect(await run([target], tagChecks('app/db', {arn: arn('app/db'), tags: OWNED}, {team: 'risk'}))).toBe('Allowed')
    expect(await run([target], tagChecks('app/db', {arn: arn('app/db'), tags: UNOWNED}, add))).toBe('ImplicitlyDenied')
    expect(await run([target], tagChecks('app/db', {arn: arn('app/db'), tags: {}}, add))).toBe('ImplicitlyDenied')
    expect(await run([target], tagChecks('app/db', {arn: arn('app/db'), tags: OTHER_OWNER}, add))).toBe(
      'ImplicitlyDenied',
    )
    expect(await run([target], tagChecks('app/db', {arn: arn('app/db'), tags: UNOWNED}, {team: 'x'}))).toBe(
      'ImplicitlyDenied',
    )
    // Handing an owned secret to another owner is refused outright.
    expect(await run([target], tagChecks('app/db', {arn: arn('app/db'), tags: OWNED}, {'managed-by': 'x'}))).toBe(
      'ExplicitlyDenied',
    )
  })

  it.each(['PutSecretValue', 'UpdateSecret', 'RestoreSecret'])('%s only on its own secrets', async (action) => {
    for (const [state, tags] of Object.entries(STATES))
      expect(await run([target], on(action, 'app/db', tags)), state).toBe(
        state === 'owned' ? 'Allowed' : 'ImplicitlyDenied',
      )
  })

  it('removes tags of its own secrets, never the ownership or target tag', async () => {
    expect(await run([target], on('UntagResource', 'app/db', OWNED, {'aws:TagKeys': ['team']}))).toBe('Allowed')
    expect(await run([target], on('UntagResource', 'app/db', UNOWNED, {'aws:TagKeys': ['team']}))).toBe(
      'ImplicitlyDenied',
    )
    for (const key of ['managed-by', 'secretsync:target'])
      expect(await run([target], on('UntagResource', 'app/db', OWNED, {'aws:TagKeys': ['team', key]})), key).toBe(
        'ExplicitlyDenied',
      )
  })

  it('cannot delete anything, and has none of the actions secretsync does not call', async () => {
    expect(
      await run([target], on('DeleteSecret', 'app/db', OWNED, {'secretsmanager:ForceDeleteWithoutRecovery': 'false'})),
    ).toBe('ImplicitlyDenied')
    for (const action of ['DescribeSecret', 'PutResourcePolicy', 'RotateSecret', 'ReplicateSecretToRegions'])
      expect(await run([target], on(action, 'app/db', OWNED)), action).toBe('ImplicitlyDenied')
  })

  it('uses a customer managed KMS key only through Secrets Manager, and only to encrypt new values and decrypt', async () => {
    const key = {action: '', resource: `arn:aws:kms:${REGION}:${TARGET}:key/1234abcd-12ab-34cd-56ef-1234567890ab`}
    // The default key policy: it lets the account's IAM policies decide.
    const keyPolicy = {
      Version: '2012-10-17',
      Statement: [{Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${TARGET}:root`}, Action: 'kms:*', Resource: '*'}],
    }
    const kms = (action: string, context: Record<string, string>) =>
      decide([target], {...key, action, context}, ROLE, TARGET, keyPolicy)
    const via = {'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com`}
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
      expect(await kms(action, via), action).toBe('Allowed')
      expect(await kms(action, {}), `${action} directly`).toBe('ImplicitlyDenied')
    }
    expect(await kms('kms:Encrypt', via)).toBe('ImplicitlyDenied')
  })
})

describe('opt-in statements', () => {
  it('secretsync-replicas-policy.json describes, replicates and un-replicates only owned secrets, and replicates at creation only with the ownership tag', async () => {
    for (const [state, tags] of Object.entries(STATES))
      for (const action of ['DescribeSecret', 'ReplicateSecretToRegions', 'RemoveRegionsFromReplication'])
        expect(await run([target, replicas], on(action, 'app/db', tags)), `${action} ${state}`).toBe(
          state === 'owned' ? 'Allowed' : 'ImplicitlyDenied',
        )
    // CreateSecret with AddReplicaRegions also needs ReplicateSecretToRegions on the secret being created.
    const creating = (tags: Record<string, string>) => ({
      action: 'secretsmanager:ReplicateSecretToRegions',
      resource: arn('app/new'),
      context: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
    })
    expect(await run([target, replicas], creating(OWNERSHIP_TAGS))).toBe('Allowed')
    expect(await run([target, replicas], creating({'managed-by': 'terraform'}))).toBe('ImplicitlyDenied')
    expect(await run([target], creating(OWNERSHIP_TAGS)), 'not without the opt-in policy').toBe('ImplicitlyDenied')
  })

  it('secretsync-replicas-policy.json lets Secrets Manager encrypt replicas with a customer managed key in the replica region, never directly', async () => {
    const keyPolicy = {
      Version: '2012-10-17',
      Statement: [{Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${TARGET}:root`}, Action: 'kms:*', Resource: '*'}],
    }
    const key = `arn:aws:kms:eu-west-1:${TARGET}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
    const kms = (policies: Policies, action: string, context: Record<string, string>) =>
      decide(policies, {action, resource: key, context}, ROLE, TARGET, keyPolicy)
    const via = {'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com'}
    for (const action of ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt']) {
      expect(await kms([target, replicas], action, via), action).toBe('Allowed')
      expect(await kms([target, replicas], action, {}), `${action} directly`).toBe('ImplicitlyDenied')
    }
    expect(await kms([target], 'kms:Encrypt', via), 'kms:Encrypt only with the opt-in policy').toBe('ImplicitlyDenied')
  })

  it('secretsync-delete-orphans-policy.json deletes only owned secrets, with a recovery window', async () => {
    const keep = {'secretsmanager:ForceDeleteWithoutRecovery': 'false', 'secretsmanager:RecoveryWindowInDays': '30'}
    for (const [state, tags] of Object.entries(STATES))
      expect(await run([target, deleteOrphans], on('DeleteSecret', 'app/db', tags, keep)), state).toBe(
        state === 'owned' ? 'Allowed' : 'ImplicitlyDenied',
      )
    expect(
      await run(
        [target, deleteOrphans],
        on('DeleteSecret', 'app/db', OWNED, {'secretsmanager:ForceDeleteWithoutRecovery': 'true'}),
      ),
    ).toBe('ExplicitlyDenied')
  })

  it('secretsync-resource-policy-policy.json reads, puts (BlockPublicPolicy only) and deletes resource policies of owned secrets only', async () => {
    const block = {'secretsmanager:BlockPublicPolicy': 'true'}
    for (const [state, tags] of Object.entries(STATES)) {
      const expected = state === 'owned' ? 'Allowed' : 'ImplicitlyDenied'
      for (const action of ['GetResourcePolicy', 'DeleteResourcePolicy'])
        expect(await run([target, resourcePolicy], on(action, 'app/db', tags)), `${action} ${state}`).toBe(expected)
      expect(await run([target, resourcePolicy], on('PutResourcePolicy', 'app/db', tags, block)), state).toBe(expected)
    }
    expect(
      await run(
        [target, resourcePolicy],
        on('PutResourcePolicy', 'app/db', OWNED, {'secretsmanager:BlockPublicPolicy': 'false'}),
      ),
    ).toBe('ImplicitlyDenied')
    // The default role alone has none of them: the policy is opt-in, like the feature.
    for (const action of ['GetResourcePolicy', 'DeleteResourcePolicy', 'PutResourcePolicy'])
      expect(await run([target], on(action, 'app/db', OWNED, block)), action).toBe('ImplicitlyDenied')
  })

  it('secretsync-adopt-policy.json lets --adopt read, restore and tag secrets without an ownership tag, never another owner’s', async () => {
    const take = {'managed-by': 'secretsync', 'secretsync:target': 'app'}
    for (const [state, tags] of Object.entries(STATES)) {
      const expected = state === 'other-owner' ? 'ImplicitlyDenied' : 'Allowed'
      expect(await run([target, adopt], on('GetSecretValue', 'app/db', tags)), `read ${state}`).toBe(expected)
      expect(await run([target, adopt], on('RestoreSecret', 'app/db', tags)), `restore ${state}`).toBe(expected)
      expect(await run([target, adopt], tagChecks('app/db', {arn: arn('app/db'), tags}, take)), `tag ${state}`).toBe(
        state === 'other-owner' ? 'ImplicitlyDenied' : 'Allowed',
      )
    }
    // Adoption writes only after the tag is on: before it, the secret is still not writable.
    expect(await run([target, adopt], on('PutSecretValue', 'app/db', UNOWNED))).toBe('ImplicitlyDenied')
    expect(
      await run([target, adopt], tagChecks('app/db', {arn: arn('app/db'), tags: UNOWNED}, {'managed-by': 'x'})),
    ).toBe('ExplicitlyDenied')
  })
})

describe('trust and base identity', () => {
  const trust = loadPolicy('secretsync-trust-policy.json')
  const base = {name: 'base', policy: loadPolicy('base-identity-policy.json')}
  const EXTERNAL_ID = 'REPLACE-WITH-A-RANDOM-EXTERNAL-ID'
  const assume = async (principal: string, context: Record<string, string>) => {
    const {runSimulation} = await import('@cloud-copilot/iam-simulate')
    const response = await runSimulation(
      {
        identityPolicies: [base],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: trust,
        request: {
          action: 'sts:AssumeRole',
          principal,
          resource: {accountId: TARGET, resource: ROLE},
          contextVariables: context,
        },
      },
      {},
    )
    if (response.resultType === 'error') throw new Error(JSON.stringify(response.errors))
    return response.overallResult
  }

  it('the target role trusts the base identities of the examples (runner, GitHub OIDC, IRSA), with the external id', async () => {
    for (const role of ['secretsync-runner', 'secretsync-github', 'secretsync-irsa']) {
      const principal = `arn:aws:sts::${BASE}:assumed-role/${role}/session`
      expect(await assume(principal, {'sts:ExternalId': EXTERNAL_ID}), role).toBe('Allowed')
      expect(await assume(principal, {}), `${role} without external id`).not.toBe('Allowed')
    }
    expect(
      await assume(`arn:aws:sts::${BASE}:assumed-role/someone-else/session`, {'sts:ExternalId': EXTERNAL_ID}),
    ).not.toBe('Allowed')
  })

  it('the trusted roles are the ones the GitHub workflow and the Kubernetes manifests use', () => {
    const principals = (trust.Statement as Array<{Principal: {AWS: string[]}}>)[0]!.Principal.AWS
    const examples = join(EXAMPLES_IAM, '..')
    const workflow = readFileSync(join(examples, 'github-workflow.yml'), 'utf8')
    const cronjob = readFileSync(join(examples, 'kubernetes/cronjob.yaml'), 'utf8')
    for (const used of [...workflow.matchAll(/role-to-assume: (\S+)/g), ...cronjob.matchAll(/role-arn: (\S+)/g)])
      expect(principals).toContain(used[1])
  })

  it('the web identity trust policies pin the audience and the subject', () => {
    const github = JSON.stringify(loadPolicy('github-oidc-trust-policy.json'))
    expect(github).toContain('oidc-provider/token.actions.githubusercontent.com')
    expect(github).toContain('"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"')
    expect(github).toMatch(
      /"token\.actions\.githubusercontent\.com:sub":\["repo:[^"*]+:pull_request","repo:[^"*]+:environment:production"\]/,
    )
    const irsa = JSON.stringify(loadPolicy('eks-irsa-trust-policy.json'))
    const cronjob = readFileSync(join(EXAMPLES_IAM, '../kubernetes/cronjob.yaml'), 'utf8')
    const namespace = /namespace: (\S+)/.exec(cronjob)?.[1]
    const account = /kind: ServiceAccount\nmetadata:\n {2}name: (\S+)/.exec(cronjob)?.[1]
    expect(irsa).toContain(`:sub":"system:serviceaccount:${namespace}:${account}"`)
    expect(irsa).toContain(':aud":"sts.amazonaws.com"')
  })
})

describe('merge store and discovery (base identity)', () => {
  const store = {name: 'merge-store', policy: loadPolicy('merge-store-policy.json')}
  const discovery = {name: 'discovery', policy: loadPolicy('discovery-policy.json')}
  const principal = `arn:aws:iam::${BASE}:role/secretsync-runner`
  const s3 = (action: string, resource: string, context: Record<string, string> = {}) =>
    decide([store], {action, resource, context}, principal, BASE)

  it('reads, writes (encrypted only) and deletes objects under the prefix, and lists the bucket', async () => {
    const object = 'arn:aws:s3:::my-secrets-merge-store/merged/app/latest.json'
    expect(await s3('s3:ListBucket', 'arn:aws:s3:::my-secrets-merge-store')).toBe('Allowed')
    expect(await s3('s3:GetObject', object)).toBe('Allowed')
    expect(await s3('s3:DeleteObject', object)).toBe('Allowed')
    for (const sse of ['AES256', 'aws:kms'])
      expect(await s3('s3:PutObject', object, {'s3:x-amz-server-side-encryption': sse}), sse).toBe('Allowed')
    expect(await s3('s3:PutObject', object)).toBe('ExplicitlyDenied')
    expect(await s3('s3:GetObject', 'arn:aws:s3:::my-secrets-merge-store/other/x.json')).toBe('ImplicitlyDenied')
  })

  it('discovery may call exactly the read APIs it uses', async () => {
    const calls = [
      'organizations:ListRoots',
      'organizations:ListOrganizationalUnitsForParent',
      'organizations:ListAccountsForParent',
      'organizations:ListTagsForResource',
      'organizations:DescribeAccount',
      'sso:ListInstances',
      'sso:ListPermissionSets',
      'sso:DescribePermissionSet',
      'sso:ListAccountsForProvisionedPermissionSet',
      'sso:ListAccountAssignments',
      'identitystore:GetGroupId',
    ]
    const granted = (discovery.policy.Statement as Array<{Action: string[]}>).flatMap((s) => s.Action)
    expect(granted.sort()).toEqual([...calls].sort())
  })
})
