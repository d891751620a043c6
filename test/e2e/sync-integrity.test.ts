import {SecretsManagerClient, TagResourceCommand} from '@aws-sdk/client-secrets-manager'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput, pipelineConfigText, runPipelineJson, secretsManagerWrites} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Issue 10 stories of `secretsync pipeline`, run as a user runs the built CLI: one deletion budget per run,
// metadata as desired state, secrets without a value, and reports that say what really happened.

const ACCOUNT = '111111111111'
const REGION = 'us-east-1'

interface Change {
  action: string
  name: string
  drift: boolean
  held: boolean
  keys_added: string[]
  tags_added: string[]
  tags_changed: string[]
  tags_removed: string[]
  kms_key_changed: boolean
  description_changed: boolean
  error: string | null
}
interface SyncJson {
  summary: Record<string, number>
  targets: Array<{name: string; status: string; error: string | null; changes: Change[]}>
}

let stack: TestStack
let config: string

const target = (name: string, extra = '') =>
  `  - {name: ${name}, account_id: "${ACCOUNT}", imports: [base], secret_prefix: ${name}/${extra}}\n`

function writeConfig(options: {targets?: string; settings?: string; token?: string} = {}): Promise<string> {
  return writeTempConfig(
    pipelineConfigText({
      region: REGION,
      targets: options.targets ?? target('app'),
      extra: `logging: {level: warn}\nretry: {max_attempts: 2, base_delay: 10ms, max_delay: 20ms}\n${options.settings ?? ''}`,
    }),
  )
}

const pipeline = (...args: string[]) => runPipelineJson<SyncJson>(stack.env, config, args)
const sm = (s: TestStack) => s.aws.secretsManager
const secretIn = (name: string) => sm(stack).getSecret(ACCOUNT, REGION, name)
const count = (operation: string) => stack.controls.count({service: 'secretsmanager', operation})

beforeEach(async () => {
  stack = await startTestStack({
    vault: {
      secrets: {
        'secret/base/db': {user: 'app', password: 'pw-1'},
        'secret/base/api': {key: 'k-1'},
        'secret/base/cfg': {n: 1},
      },
    },
    aws: {buckets: ['merge-store']},
  })
  config = await writeConfig()
})
afterEach(async () => {
  await stack.close()
})

describe('one sync.max_deletions budget for the whole run', () => {
  it('2 targets x 2 orphans with max_deletions 3: all 4 deletions held (exit 3, named), creates applied; with 4 they go', async () => {
    config = await writeConfig({
      targets: target('one') + target('two'),
      settings: 'sync: {delete_orphans: true, max_deletions: 3}\n',
    })
    expect((await pipeline()).json.summary.created).toBe(6)
    stack.vault.deleteLatest('secret/', 'base/api')
    stack.vault.deleteLatest('secret/', 'base/cfg')
    stack.vault.putSecret('secret/', 'base/new', {fresh: true})
    stack.controls.resetCounters()

    const plan = await pipeline('--dry-run')
    expect(plan.json.summary).toMatchObject({created: 2, deleted: 0, held: 4})
    expect(plan.code).toBe(3)

    const held = await pipeline()
    expect(held.code).toBe(3)
    expect(held.json.summary).toMatchObject({created: 2, deleted: 0, held: 4, failed: 4})
    for (const t of held.json.targets) {
      expect(t.status).toBe('applied')
      expect(t.error).toContain('the run would delete 4 orphaned secrets, more than sync.max_deletions (3)')
      expect(t.changes.filter((c) => c.action === 'delete').every((c) => c.held && c.error?.startsWith('held: '))).toBe(
        true,
      )
    }
    expect(count('DeleteSecret')).toBe(0)
    expect(secretIn('one/new')).toBeDefined()

    config = await writeConfig({
      targets: target('one') + target('two'),
      settings: 'sync: {delete_orphans: true, max_deletions: 4}\n',
    })
    const allowed = await pipeline()
    expect(allowed.code).toBe(0)
    expect(allowed.json.summary).toMatchObject({deleted: 4, held: 0})
    expect(secretIn('two/api')?.deletedDate).toBeDefined()
  })
})

describe('tags, KMS key and description are desired state', () => {
  it('tag keys that name Object.prototype members (__proto__, constructor) are set once and then unchanged', async () => {
    // Given a target whose tags use keys a plain JavaScript object treats specially
    config = await writeConfig({targets: target('app', `, tags: {"__proto__": p, "constructor": c, team: a}`)})

    // When it is synced, then synced again with nothing changed
    const first = await pipeline()
    const again = await pipeline('--dry-run')

    // Then AWS holds those tags, and the second plan lists no change at all (no tag seen as missing)
    expect(first.code).toBe(0)
    expect(Object.entries(secretIn('app/db')?.tags ?? {})).toEqual(
      expect.arrayContaining([
        ['__proto__', 'p'],
        ['constructor', 'c'],
        ['team', 'a'],
      ]),
    )
    expect(again.code).toBe(0)
    expect(again.json.targets.flatMap((t) => t.changes)).toEqual([])
    expect(again.json.summary).toMatchObject({unchanged: 3, updated: 0})
  })

  it('a changed tag and kms_key_id are planned, applied without new value versions, and then cost only ListSecrets', async () => {
    config = await writeConfig({targets: target('app', ', tags: {team: a, old: x}')})
    await pipeline()
    // Someone adds a tag of their own: secretsync never removes it.
    const operator = new SecretsManagerClient({
      endpoint: stack.aws.url,
      region: REGION,
      credentials: stack.aws.credentials.issue({
        accountId: ACCOUNT,
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Op/s`,
        userId: 'OP',
      }),
    })
    await operator.send(new TagResourceCommand({SecretId: 'app/db', Tags: [{Key: 'theirs', Value: 'keep'}]}))
    const versionsBefore = secretIn('app/db')?.versions.length

    config = await writeConfig({targets: target('app', ', tags: {team: b}, kms_key_id: alias/app-key')})
    const plan = await pipeline('--dry-run', '--exit-code')
    expect(plan.code).toBe(4)
    expect(plan.json.summary.updated).toBe(3)
    expect(plan.json.targets[0]?.changes.find((c) => c.name === 'app/db')).toMatchObject({
      action: 'update',
      keys_added: [],
      tags_changed: ['team'],
      tags_removed: ['old'],
      tags_added: [],
      kms_key_changed: true,
      description_changed: false,
      drift: false,
    })

    stack.controls.resetCounters()
    const applied = await pipeline()
    expect(applied.code).toBe(0)
    expect(applied.json.summary.updated).toBe(3)
    expect(count('PutSecretValue')).toBe(0)
    expect(count('TagResource')).toBe(3)
    expect(count('UntagResource')).toBe(3)
    expect(count('UpdateSecret')).toBe(3)
    const db = secretIn('app/db')
    expect(db?.tags).toEqual({'managed-by': 'secretsync', 'secretsync:target': 'app', team: 'b', theirs: 'keep'})
    expect(db?.kmsKeyId).toBe('alias/app-key')
    expect(db?.versions.length).toBe(versionsBefore)

    stack.controls.resetCounters()
    const quiet = await pipeline()
    expect(quiet.code).toBe(0)
    expect(quiet.json.summary).toMatchObject({updated: 0, unchanged: 3})
    expect(count('ListSecrets')).toBe(1)
    expect(stack.controls.count({service: 'secretsmanager'})).toBe(1)
    expect(stack.controls.count({service: 's3', operation: 'PutObject'})).toBe(0)
  })

  it('a tag secretsync set, edited by hand, is reported as drift and corrected', async () => {
    config = await writeConfig({targets: target('app', ', tags: {team: a}')})
    await pipeline()
    const operator = new SecretsManagerClient({
      endpoint: stack.aws.url,
      region: REGION,
      credentials: stack.aws.credentials.issue({
        accountId: ACCOUNT,
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Op/s`,
        userId: 'OP',
      }),
    })
    await operator.send(new TagResourceCommand({SecretId: 'app/api', Tags: [{Key: 'team', Value: 'hijacked'}]}))
    const {code, json} = await pipeline()
    expect(code).toBe(0)
    expect(json.targets[0]?.changes).toMatchObject([
      {action: 'update', name: 'app/api', drift: true, tags_changed: ['team']},
    ])
    expect(json.summary.drifted).toBe(1)
    expect(secretIn('app/api')?.tags.team).toBe('a')
  })
})

describe('a same-named secret without a current version', () => {
  it('owned by the target: its value is written, and the next run is unchanged', async () => {
    sm(stack).seedPlaceholder(ACCOUNT, REGION, {
      name: 'app/db',
      tags: {'managed-by': 'secretsync', 'secretsync:target': 'app'},
      description: 'Managed by secretsync — changes made here are overwritten',
    })
    const {code, json} = await pipeline()
    expect(code).toBe(0)
    expect(json.summary).toMatchObject({created: 2, updated: 1, failed: 0})
    expect(JSON.parse(secretIn('app/db')?.value ?? '{}')).toEqual({user: 'app', password: 'pw-1'})
    expect((await pipeline()).json.summary).toMatchObject({unchanged: 3, updated: 0})
  })

  it('not owned: a conflict, nothing written to it, the rest of the target applied (exit 3, every run)', async () => {
    sm(stack).seedPlaceholder(ACCOUNT, REGION, {name: 'app/db'})
    for (let run = 0; run < 2; run++) {
      const {code, json} = await pipeline()
      expect(code).toBe(3)
      expect(json.targets[0]?.status).toBe('applied')
      expect(json.targets[0]?.changes.find((c) => c.name === 'app/db')).toMatchObject({
        action: 'conflict',
        error: expect.stringContaining('without the ownership tag') as string,
      })
    }
    expect(secretIn('app/db')?.versions).toEqual([])
    expect(secretIn('app/db')?.tags).toEqual({})
    expect(secretIn('app/api')).toBeDefined()
  })
})

describe('reports say what happened', () => {
  it('the Secrets Manager writes succeed but the applied record cannot be written: applied changes, and the record error beside them', async () => {
    stack.controls.injectFault({service: 's3', operation: 'PutObject', resource: '/applied/', kind: '5xx', count: 100})
    const {code, json} = await pipeline()
    expect(code).toBe(3)
    expect(json.summary).toMatchObject({created: 3, failed: 0, failed_targets: 0})
    expect(json.targets[0]?.status).toBe('applied')
    expect(json.targets[0]?.error).toContain('the changes were applied, but the applied record could not be written')
    expect(secretIn('app/db')).toBeDefined()

    // Without a record the next run reads the values once, finds them in sync, and writes the record.
    stack.controls.clear()
    stack.controls.resetCounters()
    const next = await pipeline()
    expect(next.code).toBe(0)
    expect(next.json.summary).toMatchObject({unchanged: 3, created: 0})
    expect(secretsManagerWrites(stack.controls)).toBe(0)
  })

  it('every change of the run fails (KMS EncryptionFailure on each CreateSecret): exit 1, not 3', async () => {
    stack.controls.injectFault({
      service: 'secretsmanager',
      operation: 'CreateSecret',
      kind: 'error',
      code: 'EncryptionFailure',
      message: 'Access to KMS is not allowed',
      count: 100,
    })
    const {code, json} = await pipeline()
    expect(json.summary).toMatchObject({created: 0, failed: 3})
    expect(json.targets[0]?.changes.every((c) => c.error?.includes('EncryptionFailure'))).toBe(true)
    expect(code).toBe(1)
  })
})

describe('failures named in every output', () => {
  it('applying with -o text (no --diff) and -o compact names each failed secret with its reason, on stdout or in the log', async () => {
    // Given a first run, then a change to db whose PutSecretValue is refused every time
    expect((await pipeline()).code).toBe(0)
    stack.vault.putSecret('secret/', 'base/db', {user: 'app', password: 'pw-2'})
    stack.controls.injectFault({
      service: 'secretsmanager',
      operation: 'PutSecretValue',
      kind: 'error',
      code: 'EncryptionFailure',
      message: 'Access to KMS is not allowed',
      count: 100,
    })

    // When it is applied with the default text output and with compact output
    const text = await runCli(['pipeline', '-c', config], {env: stack.env})
    const compact = await runCli(['pipeline', '-c', config, '-o', 'compact'], {env: stack.env})

    // Then the text names the secret and why, and the log names it too (compact stays one line)
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/^ {2}~ app\/db — failed: .*PutSecretValue app\/db.*EncryptionFailure/m)
    for (const run of [text, compact]) {
      const warned = run.stderr
        .split('\n')
        .filter((line) => line.includes('secret not applied'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
      expect(warned).toMatchObject([
        {
          level: 'warn',
          target: 'app',
          name: 'app/db',
          action: 'update',
          error: expect.stringContaining('EncryptionFailure'),
        },
      ])
    }
    expect(compact.stdout.trim().split('\n')).toHaveLength(1)
  })
})

describe('held deletions from an incomplete walk', () => {
  // The walk reports the denied folder in DesiredTarget.incomplete; before, it was silently skipped and the
  // secrets below it were deleted (issue 10 defect 3).
  it('a folder the token may not list holds the deletions of every target it feeds (exit 3, nothing deleted)', async () => {
    stack.vault.putSecret('secret/', 'base/team/x', {t: 1})
    config = await writeConfig({settings: 'sync: {delete_orphans: true}\n'})
    expect((await pipeline()).json.summary.created).toBe(4)
    const token = stack.vault.createToken({
      policies: [
        {path: 'secret/*', capabilities: ['read', 'list']},
        {path: 'secret/metadata/base/team/', capabilities: ['deny']},
        {path: 'secret/metadata/base/team/*', capabilities: ['deny']},
        {path: 'secret/data/base/team/*', capabilities: ['deny']},
      ],
    })
    stack.controls.resetCounters()
    const result = await runCli(['pipeline', '-c', config, '--json'], {env: {...stack.env, VAULT_TOKEN: token}})
    const json = parseJsonOutput<SyncJson>(result)
    expect(result.code).toBe(3)
    expect(json.targets[0]?.changes).toMatchObject([{action: 'delete', name: 'app/team/x', held: true}])
    expect(json.targets[0]?.changes[0]?.error).toContain('secret/base/team')
    expect(count('DeleteSecret')).toBe(0)
    expect(secretIn('app/team/x')?.deletedDate).toBeUndefined()
  })
})
