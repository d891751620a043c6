import {RotateSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {
  pipelineConfigText,
  quietPipelineConfigText,
  runPipelineJson,
  secretsManagerWrites,
  THREE_SECRETS_STACK,
} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Issue 16 stories of `secretsync pipeline`: what lands in Secrets Manager (names, keys, formats, rotation),
// through the CLI against the test stack, with plan, drift, ownership and held deletions as for every secret.

const ACCOUNT = '111111111111'
const REGION = 'us-east-1'

interface Change {
  action: string
  drift: boolean
  name: string
  path: string
  held: boolean
  error: string | null
}
interface SyncJson {
  summary: Record<string, number>
  targets: Array<{name: string; status: string; error: string | null; changes: Change[]}>
}

let stack: TestStack
let config: string

const target = (extra: string) => `  - {name: app, account_id: "${ACCOUNT}", imports: [base]${extra}}\n`
const writeConfig = (targets: string, settings = ''): Promise<string> =>
  writeTempConfig(quietPipelineConfigText(targets, settings, REGION))
const pipeline = (...args: string[]) => runPipelineJson<SyncJson>(stack.env, config, args)
const names = () => stack.aws.secretsManager.listNames(ACCOUNT, REGION).sort()
const live = () =>
  names().filter((name) => stack.aws.secretsManager.getSecret(ACCOUNT, REGION, name)?.deletedDate === undefined)
const count = (operation: string) => stack.controls.count({service: 'secretsmanager', operation})

beforeEach(async () => {
  stack = await startTestStack(THREE_SECRETS_STACK)
})
afterEach(async () => {
  await stack.close()
})

describe('name templates', () => {
  it('names follow the template; a run with nothing changed costs one ListSecrets and no write', async () => {
    config = await writeConfig(target(`, name_template: '{{target}}/{{path | replace "/" "-" | upper}}'`))
    const first = await pipeline()
    expect(first.code).toBe(0)
    expect(first.json.summary.created).toBe(3)
    expect(live()).toEqual(['app/DB', 'app/SVC-API', 'app/SVC-CFG'])
    const create = first.json.targets[0]?.changes.find((c) => c.name === 'app/SVC-API')
    expect(create?.path).toBe('svc/api')

    stack.controls.resetCounters()
    const again = await pipeline()
    expect(again.code).toBe(0)
    expect(again.json.summary).toMatchObject({unchanged: 3, created: 0, updated: 0})
    expect(count('ListSecrets')).toBe(1)
    expect(secretsManagerWrites(stack.controls)).toBe(0)
  })

  it('changing the template plans creates plus deletions of the old names; over max_deletions they are held (exit 3)', async () => {
    const settings = (max: number) => `sync: {delete_orphans: true, max_deletions: ${max}}\n`
    config = await writeConfig(target(`, name_template: '{{target}}/{{path}}'`), settings(2))
    expect((await pipeline()).json.summary.created).toBe(3)

    config = await writeConfig(target(`, name_template: '{{target}}/v2/{{path}}'`), settings(2))
    const plan = await pipeline('--dry-run')
    expect(plan.code).toBe(3)
    expect(plan.json.summary).toMatchObject({created: 3, deleted: 0, held: 3})
    const deletes = plan.json.targets[0]?.changes.filter((c) => c.action === 'delete') ?? []
    expect(deletes.map((c) => c.name).sort()).toEqual(['app/db', 'app/svc/api', 'app/svc/cfg'])
    expect(deletes.every((c) => c.held && c.error?.includes('more than sync.max_deletions (2)'))).toBe(true)

    const held = await pipeline()
    expect(held.code).toBe(3)
    expect(held.json.summary).toMatchObject({created: 3, deleted: 0, held: 3})
    expect(count('DeleteSecret')).toBe(0)
    expect(live()).toEqual(['app/db', 'app/svc/api', 'app/svc/cfg', 'app/v2/db', 'app/v2/svc/api', 'app/v2/svc/cfg'])

    config = await writeConfig(target(`, name_template: '{{target}}/v2/{{path}}'`), settings(3))
    const allowed = await pipeline()
    expect(allowed.code).toBe(0)
    expect(allowed.json.summary).toMatchObject({created: 0, deleted: 3, unchanged: 3})
    expect(live()).toEqual(['app/v2/db', 'app/v2/svc/api', 'app/v2/svc/cfg'])
  })

  it('two paths rendered to one name: both fail, naming each other, the rest applies (exit 3)', async () => {
    stack.vault.putSecret('secret/', 'base/DB', {other: true})
    config = await writeConfig(target(`, name_template: '{{path | lower}}'`))
    const run = await pipeline()
    expect(run.code).toBe(3)
    expect(run.json.summary).toMatchObject({created: 2, failed: 2})
    const failed = run.json.targets[0]?.changes.filter((c) => c.error !== null) ?? []
    expect(failed.map((c) => [c.path, c.error])).toEqual([
      ['DB', expect.stringContaining('the name "db" is also rendered for "db"')],
      ['db', expect.stringContaining('the name "db" is also rendered for "DB"')],
    ])
    expect(live()).toEqual(['svc/api', 'svc/cfg'])
  })

  it('an account name (untrusted) that would make a ".." segment fails every secret, and nothing is written (exit 1)', async () => {
    config = await writeConfig(target(`, account_name: "..", name_template: '{{account_name}}/{{path}}'`))
    const run = await pipeline()
    expect(run.code).toBe(1)
    expect(run.json.summary.failed).toBe(3)
    expect(run.json.targets[0]?.changes.every((c) => c.error?.includes('".." segment'))).toBe(true)
    expect(secretsManagerWrites(stack.controls)).toBe(0)
  })

  it('drift and rollback work on templated names: an outside edit is drift, and rollback restores v1 there', async () => {
    config = await writeConfig(target(`, name_template: '{{target}}/{{path | upper}}'`))
    await pipeline()
    stack.vault.putSecret('secret/', 'base/db', {user: 'app', password: 'pw-2'})
    stack.aws.secretsManager.putValueOutOfBand(ACCOUNT, REGION, 'app/DB', '{"edited": true}')
    const second = await pipeline()
    expect(second.json.targets[0]?.changes).toMatchObject([{action: 'update', name: 'app/DB', drift: true}])
    expect(stack.aws.secretsManager.getSecret(ACCOUNT, REGION, 'app/DB')?.value).toBe(
      '{"user":"app","password":"pw-2"}',
    )

    const rollback = await runCli(
      ['version', 'rollback', '--target', 'app', '--version', '1', '-c', config, '--json'],
      {
        env: stack.env,
      },
    )
    expect(rollback.code).toBe(0)
    expect(stack.aws.secretsManager.getSecret(ACCOUNT, REGION, 'app/DB')?.value).toBe(
      '{"user":"app","password":"pw-1"}',
    )
  })

  it('validate names the file, line and key of a bad template, and warns about ARN-suffix-like names', async () => {
    config = await writeConfig(target(`, name_template: '{{path}}/{{nope}}'`))
    const bad = await runCli(['validate', '-c', config], {env: stack.env})
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/secretsync\.yaml:\d+:\d+.*targets\[0\]\.name_template: unknown variable \{\{nope\}\}/)

    config = await writeConfig(target(`, name_template: '{{path}}-abcdef'`))
    const warned = await runCli(['validate', '-c', config], {env: stack.env})
    expect(warned.code).toBe(0)
    expect(warned.stdout).toContain('warning: targets[0].name_template: names end in "-" and six characters')
  })
})

describe('selection, granularity and formats', () => {
  const current = (name: string) => stack.aws.secretsManager.getSecret(ACCOUNT, REGION, name)
  const currentBinary = (name: string) => current(name)?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.binary

  it('include/exclude on an import: only the selected paths are synced; narrowing it makes the rest orphans', async () => {
    stack.vault.putSecret('secret/', 'base/svc/legacy/old', {x: 1})
    const imports = (selection: string) => `  - name: app\n    account_id: "${ACCOUNT}"\n    imports: [${selection}]\n`
    config = await writeConfig(imports('{name: base, include: ["svc/**"], exclude: ["svc/legacy/*"]}'))
    const run = await pipeline()
    expect(run.code).toBe(0)
    expect(live()).toEqual(['svc/api', 'svc/cfg'])

    config = await writeConfig(imports('{name: base, include: ["svc/api"]}'), 'sync: {delete_orphans: true}\n')
    const narrowed = await pipeline()
    expect(narrowed.json.summary).toMatchObject({deleted: 1, unchanged: 1})
    expect(live()).toEqual(['svc/api'])
  })

  it('granularity key + format raw: one plain secret per key; no change costs one ListSecrets; an edit is drift', async () => {
    config = await writeConfig(target(', granularity: key, format: raw'))
    const first = await pipeline()
    expect(first.code).toBe(0)
    expect(live()).toEqual(['db/password', 'db/user', 'svc/api/key', 'svc/cfg/n'])
    expect(current('db/password')?.value).toBe('pw-1')
    expect(current('svc/cfg/n')?.value).toBe('1')
    const change = first.json.targets[0]?.changes.find((c) => c.name === 'db/user') as Change & {key?: string}
    expect(change).toMatchObject({action: 'create', path: 'db', key: 'user'})

    stack.controls.resetCounters()
    const again = await pipeline()
    expect(again.json.summary).toMatchObject({unchanged: 4, created: 0, updated: 0})
    expect(count('ListSecrets')).toBe(1)
    expect(secretsManagerWrites(stack.controls)).toBe(0)

    stack.aws.secretsManager.putValueOutOfBand(ACCOUNT, REGION, 'db/password', 'pw-hacked')
    const drift = await pipeline()
    expect(drift.json.targets[0]?.changes).toMatchObject([{action: 'update', name: 'db/password', drift: true}])
    expect(current('db/password')?.value).toBe('pw-1')
  })

  it('format raw on a multi-key secret fails that secret, named; the single-key ones apply (exit 3)', async () => {
    config = await writeConfig(target(', format: raw'))
    const run = await pipeline()
    expect(run.code).toBe(3)
    const failed = run.json.targets[0]?.changes.filter((c) => c.error !== null)
    expect(failed).toMatchObject([{path: 'db', error: expect.stringContaining('this one has 2 keys')}])
    expect(current('svc/api')?.value).toBe('k-1')
  })

  it('format binary: base64 in Vault lands as SecretBinary, compared byte-exactly; invalid base64 fails alone', async () => {
    const der = Buffer.from([0x30, 0x82, 0x00, 0xff, 0x10]).toString('base64')
    stack.vault.putSecret('secret/', 'certs/tls', {der})
    stack.vault.putSecret('secret/', 'certs/broken', {der: 'not base64!'})
    const binary = `  - name: app\n    account_id: "${ACCOUNT}"\n    imports: [{name: base, include: ["certs/*"]}]\n    format: binary\n`
    config = await writeTempConfig(
      pipelineConfigText({region: REGION, targets: binary, extra: 'logging: {level: warn}\n'}).replace(
        'mount: secret/base/',
        'mount: secret/',
      ),
    )
    const run = await pipeline()
    expect(run.code).toBe(3)
    expect(run.json.targets[0]?.changes.find((c) => c.path === 'certs/broken')?.error).toContain(
      'format binary needs a base64 string',
    )
    expect(currentBinary('certs/tls')).toBe(der)
    expect(current('certs/tls')?.value).toBeUndefined()

    stack.controls.resetCounters()
    await pipeline()
    expect(count('CreateSecret') + count('PutSecretValue')).toBe(0)
    stack.vault.putSecret('secret/', 'certs/tls', {der: Buffer.from([0x30, 0x82, 0x00, 0xff, 0x11]).toString('base64')})
    const changed = await pipeline()
    expect(changed.json.targets[0]?.changes.find((c) => c.path === 'certs/tls')).toMatchObject({action: 'update'})
    expect(Buffer.from(currentBinary('certs/tls') ?? '', 'base64').at(-1)).toBe(0x11)
  })
})

describe('rotation-aware sync', () => {
  const enableRotation = async (name: string) => {
    const operator = new SecretsManagerClient({
      endpoint: stack.aws.url,
      region: REGION,
      credentials: stack.aws.credentials.issue({
        accountId: ACCOUNT,
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Op/s`,
        userId: 'OP',
      }),
    })
    await operator.send(
      new RotateSecretCommand({
        SecretId: name,
        RotationLambdaARN: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:rotate`,
        RotationRules: {AutomaticallyAfterDays: 30},
        RotateImmediately: false,
      }),
    )
    operator.destroy()
  }

  it('a secret with rotation enabled is skipped (rotation) in every output, never a failure; rotation: overwrite writes it', async () => {
    config = await writeConfig(target(''), 'sync: {delete_orphans: true}\n')
    await pipeline()
    await enableRotation('db')
    stack.vault.putSecret('secret/', 'base/db', {user: 'app', password: 'pw-2'})
    stack.controls.resetCounters()

    const run = await pipeline()
    expect(run.code).toBe(0)
    expect(run.json.summary).toMatchObject({skipped: 1, updated: 0, failed: 0})
    expect(run.json.targets[0]?.changes).toEqual([
      expect.objectContaining({action: 'skip', name: 'db', reason: 'rotation', error: null}),
    ])
    expect(count('BatchGetSecretValue') + secretsManagerWrites(stack.controls)).toBe(0)
    expect(stack.aws.secretsManager.getSecret(ACCOUNT, REGION, 'db')?.value).toBe('{"user":"app","password":"pw-1"}')

    // Every format says so, and a rotated secret that is no longer desired is left alone too.
    stack.vault.deleteLatest('secret/', 'base/db')
    const text = await runCli(['pipeline', '-c', config, '--dry-run', '-o', 'text'], {env: stack.env})
    expect(text.stdout).toContain('= db — skipped (rotation)')
    expect(text.stdout).toContain('1 skipped (rotation)')
    const compact = await runCli(['pipeline', '-c', config, '--dry-run', '-o', 'compact'], {env: stack.env})
    expect(compact.stdout).toContain(' skipped=1')
    const github = await runCli(['pipeline', '-c', config, '--dry-run', '-o', 'github'], {env: stack.env})
    expect(github.code).toBe(0)
    expect(github.stdout).toContain('skipped (rotation)')
    stack.vault.putSecret('secret/', 'base/db', {user: 'app', password: 'pw-2'})

    stack.controls.resetCounters()
    const quiet = await pipeline()
    expect(quiet.json, JSON.stringify(quiet.json.targets)).toMatchObject({summary: {skipped: 1, unchanged: 2}})
    expect(count('ListSecrets')).toBe(1)
    expect(secretsManagerWrites(stack.controls)).toBe(0)
    expect(stack.controls.count({service: 's3', operation: 'PutObject'})).toBe(0)

    config = await writeConfig(target(', rotation: overwrite'))
    const overwrite = await pipeline()
    expect(overwrite.json.summary).toMatchObject({skipped: 0, updated: 1})
    expect(stack.aws.secretsManager.getSecret(ACCOUNT, REGION, 'db')?.value).toBe('{"user":"app","password":"pw-2"}')
  })
})
