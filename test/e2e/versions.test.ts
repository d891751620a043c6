import {readFile} from 'node:fs/promises'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput, secretsManagerWrites} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Stories of the merge store's history: `secretsync version list|show|rollback` after real pipeline runs, run as the
// built CLI against the in-process stack.

const ACCOUNT = '111111111111'
const BUCKET = 'merge-store'
let stack: TestStack
let config: string

const writeConfig = (mergeStore = true): Promise<string> =>
  writeTempConfig(`vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
vault_sources:
  - {name: base, mount: secret/base/}
${mergeStore ? `merge_store:\n  bucket: ${BUCKET}\n  endpoint: \${AWS_ENDPOINT_URL}\n` : ''}aws:
  region: us-east-1
  endpoint: \${AWS_ENDPOINT_URL}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
targets:
  - name: svc
    account_id: "${ACCOUNT}"
    imports: [base]
logging: {level: warn}
`)

const cli = (...args: string[]) => {
  const [command = '', ...rest] = args
  const words = command.split(' ')
  return runCli([...words, '-c', config, ...rest], {env: stack.env})
}

const json = <T>(result: {code: number; stdout: string; stderr: string}): T => parseJsonOutput<T>(result)

interface VersionList {
  target: string
  path: string | null
  versions: Array<{version: number; latest: boolean; secrets: number; change?: string}>
}

interface RollbackJson {
  snapshot: {version: number; status: string; from_version: number}
  dry_run: boolean
  summary: Record<string, number>
  targets: Array<{
    name: string
    status: string
    snapshot_version: number | null
    changes: Array<{action: string; name: string; keys_changed: string[]}>
  }>
}

const writes = (): number => secretsManagerWrites(stack.controls)
const awsValue = (name: string): unknown =>
  JSON.parse(stack.aws.secretsManager.getSecret(ACCOUNT, 'us-east-1', name)?.value ?? 'null')
const snapshotObject = (
  version: number,
): {version: number; secrets: Record<string, unknown>; hashes: Record<string, string>} =>
  JSON.parse(stack.aws.s3.getObject(BUCKET, `svc/v${version}.json`)?.body.toString('utf8') ?? 'null')

/** Two pipeline runs: v1 from the seeded Vault, v2 after `change` edited Vault. */
async function twoRuns(change: () => void): Promise<void> {
  const first = await cli('pipeline', '--json')
  expect(first.code, first.stderr).toBe(0)
  change()
  const second = await cli('pipeline', '--json')
  expect(second.code, second.stderr).toBe(0)
  expect(json<{targets: Array<{snapshot_version: number}>}>(second).targets[0]?.snapshot_version).toBe(2)
}

const changeDb = () => stack.vault.putSecret('secret/', 'base/app/db', {user: 'app', password: 'pw-2'})

beforeEach(async () => {
  stack = await startTestStack({
    vault: {secrets: {'secret/base/app/db': {user: 'app', password: 'pw-1'}, 'secret/base/app/api': {key: 'k-1'}}},
    aws: {buckets: [BUCKET]},
  })
  config = await writeConfig()
})
afterEach(async () => {
  await stack.close()
})

describe('secretsync version list and show', () => {
  it('lists snapshots newest first, narrows to the versions where one secret changed, and masks values unless asked', async () => {
    // Given two runs where only app/db changed in between
    await twoRuns(changeDb)

    // When the target's snapshots are listed
    const all = await cli('version list', '--target', 'svc', '--json')
    expect(all.code).toBe(0)
    expect(json<VersionList>(all)).toMatchObject({
      target: 'svc',
      path: null,
      versions: [
        {version: 2, latest: true, secrets: 2},
        {version: 1, latest: false, secrets: 2},
      ],
    })

    // And the versions of one secret: app/db changed in v2, app/api did not
    const db = await cli('version list', '--path', 'svc/app/db')
    expect(db.code).toBe(0)
    expect(db.stdout).toMatch(
      /^versions of svc where app\/db changed:\n {2}v2 \(latest\) .* changed\n {2}v1 .* added\n$/,
    )
    const api = json<VersionList>(await cli('version list', '--path', 'svc/app/api', '--json'))
    expect(api.versions.map((v) => [v.version, v.change])).toEqual([[1, 'added']])

    // When snapshot 1 is shown: key names with masked values, and the values only with --show-values
    const masked = await cli('version show', '--target', 'svc', '--version', '1')
    expect(masked.code).toBe(0)
    expect(masked.stdout).toMatch(/^ {2}app\/db\n( {4}(user|password): \*\*\*\n){2}/m)
    expect(masked.stdout).not.toContain('pw-1')
    const shown = await cli('version show', '--target', 'svc', '--version', '1', '--show-values', '--json')
    expect(json<{version: number; secrets: unknown}>(shown)).toMatchObject({
      version: 1,
      secrets: {'app/db': {user: 'app', password: 'pw-1'}, 'app/api': {key: 'k-1'}},
    })
  })
})

describe('secretsync version rollback', () => {
  it('--dry-run writes nothing and plans the update; applying writes v3 equal to v1 and syncs it', async () => {
    await twoRuns(changeDb)
    expect(awsValue('app/db')).toEqual({user: 'app', password: 'pw-2'})

    // When the rollback is planned
    stack.controls.resetCounters()
    const planned = await cli('version rollback', '--target', 'svc', '--version', '1', '--dry-run', '--json')

    // Then nothing is written anywhere, and the plan is one update of app/db
    expect(planned.code).toBe(0)
    const plan = json<RollbackJson>(planned)
    expect(plan).toMatchObject({snapshot: {version: 3, status: 'planned', from_version: 1}, dry_run: true})
    expect(plan.targets[0]?.changes).toMatchObject([{action: 'update', name: 'app/db', keys_changed: ['password']}])
    expect(stack.controls.count({service: 's3', operation: 'PutObject'})).toBe(0)
    expect(writes()).toBe(0)
    expect(stack.aws.s3.getObject(BUCKET, 'svc/v3.json')).toBeUndefined()

    // When it is applied
    const applied = await cli('version rollback', '--target', 'svc', '--version', '1', '--json')

    // Then v3 holds v1's content, is the latest, and AWS has the v1 value back
    expect(applied.code).toBe(0)
    expect(json<RollbackJson>(applied)).toMatchObject({
      snapshot: {version: 3, status: 'created', from_version: 1},
      summary: {updated: 1, unchanged: 1},
    })
    const [v1, v3] = [snapshotObject(1), snapshotObject(3)]
    expect(v3.version).toBe(3)
    expect(v3.secrets).toEqual(v1.secrets)
    expect(v3.hashes).toEqual(v1.hashes)
    expect(JSON.parse(stack.aws.s3.getObject(BUCKET, 'svc/latest.json')?.body.toString('utf8') ?? '{}')).toEqual({
      version: 3,
    })
    expect(awsValue('app/db')).toEqual({user: 'app', password: 'pw-1'})
    expect(stack.controls.count({service: 'secretsmanager', operation: 'PutSecretValue'})).toBe(1)

    // And a version that does not exist fails clearly, writing nothing
    stack.controls.resetCounters()
    const missing = await cli('version rollback', '--target', 'svc', '--version', '7')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('snapshot 7 of target "svc" does not exist')
    expect(missing.stderr).toContain('secretsync version list --target svc')
    expect(stack.controls.count({service: 's3', operation: 'PutObject'})).toBe(0)
    expect(writes()).toBe(0)
  })

  it('--path rolls back one secret and leaves the others at the latest snapshot', async () => {
    // Given two runs where both secrets changed in between
    await twoRuns(() => {
      changeDb()
      stack.vault.putSecret('secret/', 'base/app/api', {key: 'k-2'})
    })

    // When only app/db is rolled back to v1
    stack.controls.resetCounters()
    const result = await cli('version rollback', '--path', 'svc/app/db', '--version', '1', '--json')

    // Then v3 holds v1's app/db and v2's app/api, and only app/db is written to AWS
    expect(result.code).toBe(0)
    expect(json<RollbackJson>(result).targets[0]?.changes).toMatchObject([{action: 'update', name: 'app/db'}])
    expect(snapshotObject(3).secrets).toEqual({'app/db': {user: 'app', password: 'pw-1'}, 'app/api': {key: 'k-2'}})
    expect(awsValue('app/db')).toEqual({user: 'app', password: 'pw-1'})
    expect(awsValue('app/api')).toEqual({key: 'k-2'})
    expect(writes()).toBe(1)
  })
})

describe('secretsync version rollback to a snapshot of an incomplete walk', () => {
  it('keeps holding the deletions that snapshot could not vouch for (exit 3, nothing deleted), also when planned', async () => {
    // Given delete_orphans, a first complete run, then a run whose token may not list base/team/ (v2 lacks team/x)
    config = await writeTempConfig(`${await readFile(config, 'utf8')}sync: {delete_orphans: true}\n`)
    stack.vault.putSecret('secret/', 'base/team/x', {t: 1})
    expect((await cli('pipeline', '--json')).code).toBe(0)
    const denied = stack.vault.createToken({
      policies: [
        {path: 'secret/*', capabilities: ['read', 'list']},
        {path: 'secret/metadata/base/team/', capabilities: ['deny']},
        {path: 'secret/metadata/base/team/*', capabilities: ['deny']},
      ],
    })
    const partial = await runCli(['pipeline', '-c', config, '--json'], {env: {...stack.env, VAULT_TOKEN: denied}})
    expect(partial.code).toBe(3)
    expect(Object.keys(snapshotObject(2).secrets).sort()).toEqual(['app/api', 'app/db'])

    // When v1 (complete) is restored, then v2 (incomplete) is restored again, planned and applied
    expect((await cli('version rollback', '--target', 'svc', '--version', '1', '--json')).code).toBe(0)
    stack.controls.resetCounters()
    const planned = json<RollbackJson>(
      await cli('version rollback', '--target', 'svc', '--version', '2', '--dry-run', '--json'),
    )
    const applied = await cli('version rollback', '--target', 'svc', '--version', '2', '--json')

    // Then the deletion of team/x is held in the plan and in the run, and team/x is still there
    expect(planned.targets[0]?.changes).toMatchObject([{action: 'delete', name: 'team/x', held: true}])
    expect(applied.code).toBe(3)
    expect(json<RollbackJson>(applied).targets[0]?.changes).toMatchObject([
      {action: 'delete', name: 'team/x', held: true},
    ])
    expect(stack.controls.count({service: 'secretsmanager', operation: 'DeleteSecret'})).toBe(0)
    expect(stack.aws.secretsManager.getSecret(ACCOUNT, 'us-east-1', 'team/x')?.deletedDate).toBeUndefined()
    // And the restored snapshot still records why it may be incomplete, for later --sync-only runs
    expect(JSON.parse(stack.aws.s3.getObject(BUCKET, 'svc/v4.json')?.body.toString('utf8') ?? '{}').incomplete).toEqual(
      [expect.stringContaining('secret/base/team/')],
    )
  })
})

describe('history usage errors', () => {
  it('an unknown target is exit 2 with a did-you-mean (version list --target, version rollback --path)', async () => {
    for (const args of [
      ['version list', '--target', 'svx'],
      ['version rollback', '--path', 'svx/app/db', '--version', '1'],
    ]) {
      const result = await cli(...args)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr, args.join(' ')).toContain('"svx" (did you mean "svc"?)')
    }
    expect(stack.controls.count({service: 's3'})).toBe(0)
  })

  it('without a merge store there is no history: exit 2', async () => {
    config = await writeConfig(false)
    const result = await cli('version list', '--target', 'svc')
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('the merge store is not configured')
  })
})

describe('version list with a corrupt snapshot', () => {
  it('lists the readable snapshots, flags the corrupt one and exits 3', async () => {
    // Given v1 and v2, and v1 overwritten with something that is not a snapshot
    await twoRuns(changeDb)
    stack.aws.s3.putObject(BUCKET, 'svc/v1.json', '{"format": 1, "target": "svc"')

    // When the history is listed
    const listed = await cli('version list', '--target', 'svc', '--json')
    const text = await cli('version list', '--target', 'svc')

    // Then v2 is listed as usual, v1 is flagged with why, and the exit code says the listing is partial
    expect(listed.code, listed.stderr).toBe(3)
    const versions = json<{versions: Array<Record<string, unknown>>}>(listed).versions
    expect(versions).toMatchObject([
      {version: 2, latest: true, secrets: 2, error: null},
      {
        version: 1,
        latest: false,
        created_at: null,
        secrets: null,
        error: expect.stringContaining('svc/v1.json: not valid JSON'),
      },
    ])
    expect(text.code).toBe(3)
    expect(text.stdout).toMatch(/v2 \(latest\).*2 secrets/)
    expect(text.stdout).toContain('v1  CORRUPT: corrupt merge store object s3://merge-store/svc/v1.json')
  })
})
