import {mkdtemp, readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput, pipelineConfigText, secretsManagerWrites} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Stories of `secretsync pipeline`'s flags (docs/design.md §2), run as the built CLI against the in-process stack.

const ACCOUNT = '111111111111'
const BUCKET = 'merge-store'
let stack: TestStack
let config: string

const target = (name: string, imports = 'base') =>
  `  - name: ${name}\n    account_id: "${ACCOUNT}"\n    imports: [${imports}]\n    secret_prefix: ${name}/\n`

const writeConfig = (targets = target('app')): Promise<string> =>
  writeTempConfig(pipelineConfigText({bucket: BUCKET, targets, extra: 'logging: {level: warn}\n'}))

const pipeline = (args: string[], env: Record<string, string> = {}, options: {subprocess?: boolean} = {}) =>
  runCli(['pipeline', '-c', config, ...args], {env: {...stack.env, ...env}, ...options})

interface SyncJson {
  run_id: string
  dry_run: boolean
  summary: Record<string, number>
  targets: Array<{
    name: string
    status: string
    snapshot_version: number | null
    changes: Array<{action: string; name: string}>
  }>
}

const json = <T = SyncJson>(result: {code: number; stdout: string; stderr: string}): T => parseJsonOutput<T>(result)

const writes = (): number => secretsManagerWrites(stack.controls)
const awsValue = (name: string): unknown =>
  JSON.parse(stack.aws.secretsManager.getSecret(ACCOUNT, 'us-east-1', name)?.value ?? 'null')
const changeDb = () => stack.vault.putSecret('secret/', 'base/db', {user: 'app', password: 'pw-2'})

beforeEach(async () => {
  stack = await startTestStack({
    vault: {
      secrets: {
        'secret/base/db': {user: 'app', password: 'pw-1'},
        'secret/base/api': {key: 'k-1'},
        'secret/base/nested/cfg': {list: [1, 2]},
      },
    },
    aws: {buckets: [BUCKET]},
  })
  config = await writeConfig()
})
afterEach(async () => {
  await stack.close()
})

describe('syncing stored snapshots', () => {
  it('--sync-only syncs the latest snapshots without reading Vault; --version N --targets T syncs snapshot N of T alone', async () => {
    // Given app importing shared, a merge-only run (snapshots v1, nothing in AWS), and a later change in Vault
    config = await writeConfig(`${target('shared')}${target('app', 'shared')}`)
    const merged = await pipeline(['--merge-only', '--json'])
    expect(merged.code, merged.stderr).toBe(0)
    expect(stack.controls.count({service: 'secretsmanager'})).toBe(0)
    changeDb()

    // When only the sync phase runs
    stack.controls.resetCounters()
    const synced = await pipeline(['--sync-only', '--json'])

    // Then AWS gets snapshots v1 (the old password), and Vault was never asked
    expect(synced.code).toBe(0)
    expect(json(synced).targets.map((t) => [t.name, t.status, t.snapshot_version])).toEqual([
      ['shared', 'applied', 1],
      ['app', 'applied', 1],
    ])
    expect(json(synced).summary.created).toBe(6)
    expect(awsValue('app/db')).toEqual({user: 'app', password: 'pw-1'})
    expect(stack.controls.count({service: 'vault'})).toBe(0)

    // Given a full run that stores and applies v2 of both
    expect((await pipeline(['--json'])).code).toBe(0)
    expect(awsValue('app/db')).toEqual({user: 'app', password: 'pw-2'})

    // When snapshot 1 of app is synced explicitly
    stack.controls.resetCounters()
    const pinned = await pipeline(['--version', '1', '--targets', 'app', '--json'])

    // Then app is back at v1 in AWS, its import shared is left at v2, Vault is not read;
    // and the JSON is exactly the documented shape (docs/design.md §2)
    expect(pinned.code).toBe(0)
    expect(awsValue('app/db')).toEqual({user: 'app', password: 'pw-1'})
    expect(awsValue('shared/db')).toEqual({user: 'app', password: 'pw-2'})
    expect(stack.controls.count({service: 'vault'})).toBe(0)
    expect(json<unknown>(pinned)).toEqual({
      run_id: expect.any(String),
      dry_run: false,
      summary: {
        targets: 1,
        failed_targets: 0,
        created: 0,
        updated: 1,
        restored: 0,
        deleted: 0,
        unchanged: 2,
        conflicts: 0,
        drifted: 0,
        failed: 0,
        held: 0,
        skipped: 0,
      },
      targets: [
        {
          name: 'app',
          account_id: ACCOUNT,
          region: 'us-east-1',
          status: 'applied',
          snapshot_version: 1,
          error: null,
          changes: [
            {
              action: 'update',
              name: 'app/db',
              path: 'db',
              drift: false,
              keys_added: [],
              keys_removed: [],
              keys_changed: ['password'],
              tags_added: [],
              tags_changed: [],
              tags_removed: [],
              kms_key_changed: false,
              description_changed: false,
              held: false,
              error: null,
            },
          ],
        },
      ],
      throttling: [
        {
          account_id: ACCOUNT,
          region: 'us-east-1',
          write_rate: {configured: 40, final: 40, lowest: 40},
          calls: expect.any(Number),
          throttled: 0,
          throttled_by_operation: {},
        },
      ],
    })
  })
})

describe('usage errors', () => {
  it('--version without --targets, and --targets naming an unknown target, are exit 2 before anything is contacted', async () => {
    const noTarget = await pipeline(['--version', '1'])
    expect(noTarget.code).toBe(2)
    expect(noTarget.stderr).toContain('--version N needs exactly one target in --targets')

    const unknown = await pipeline(['--targets', 'ap', '--dry-run'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('"ap" (did you mean "app"?)')

    expect(stack.controls.snapshot()).toEqual({})
  })
})

describe('output and exit codes', () => {
  it('--exit-code gives 4 when something changed and 0 when nothing did; -o compact is one line', async () => {
    // A real process: exit 4 as the shell sees it.
    const changed = await pipeline(['--exit-code', '-o', 'compact'], {}, {subprocess: true})
    expect(changed.code).toBe(4)
    expect(changed.stdout).toBe(
      'secretsync applied: 1 target (0 failed) +3 ~0 !0 -0 =0 conflicts=0 drift=0 failed=0 held=0\n',
    )

    const same = await pipeline(['--exit-code', '-o', 'compact'])
    expect(same.code).toBe(0)
    expect(same.stdout).toBe(
      'secretsync applied: 1 target (0 failed) +0 ~0 !0 -0 =3 conflicts=0 drift=0 failed=0 held=0\n',
    )
  })

  it('-o github writes a Markdown table to $GITHUB_STEP_SUMMARY and the counts to $GITHUB_OUTPUT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'secretsync-gh-'))
    const files = {GITHUB_STEP_SUMMARY: join(dir, 'summary.md'), GITHUB_OUTPUT: join(dir, 'output')}

    const result = await pipeline(['-o', 'github'], files)

    expect(result.code).toBe(0)
    expect(result.stdout).toContain('::group::target app')
    const summary = await readFile(files.GITHUB_STEP_SUMMARY, 'utf8')
    expect(summary).toContain(
      '| action | secret | keys added | keys removed | keys changed | metadata | drift | error |',
    )
    expect(summary).toContain('| create | app/db |')
    expect(summary).toContain('| 1 | 0 | 3 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |')
    const outputs = await readFile(files.GITHUB_OUTPUT, 'utf8')
    expect(outputs.split('\n')).toEqual(
      expect.arrayContaining(['created=3', 'updated=0', 'failed=0', 'held=0', 'has_changes=true']),
    )
  })

  it('applying prints per-secret lines with --diff, and only headings and totals without it', async () => {
    const withDiff = await pipeline(['--diff'])
    expect(withDiff.code).toBe(0)
    expect(withDiff.stdout).toContain('\n  + app/db\n')
    expect(withDiff.stdout).toContain('\n  + app/nested/cfg\n')

    changeDb()
    const without = await pipeline([])
    expect(without.code).toBe(0)
    expect(without.stdout).toBe(
      `target app (${ACCOUNT} / us-east-1) — applied snapshot v2\nApplied: 0 created, 1 updated, 0 restored, 0 deleted, 2 unchanged, 0 conflicts, 0 drifted, 0 failed\n`,
    )
  })

  it('--merge-only --dry-run writes nothing', async () => {
    stack.controls.resetCounters()
    const result = await pipeline(['--merge-only', '--dry-run', '--json'])
    expect(result.code).toBe(0)
    expect(
      json<{phase: string; dry_run: boolean; targets: Array<{name: string; status: string}>}>(result),
    ).toMatchObject({
      phase: 'merge',
      dry_run: true,
      targets: [{name: 'app', status: 'planned'}],
    })
    expect(stack.controls.count({service: 's3', operation: 'PutObject'})).toBe(0)
    expect(stack.aws.s3.listKeys(BUCKET)).toEqual([])
    expect(stack.controls.count({service: 'secretsmanager'})).toBe(0)
  })
})

describe('sharding', () => {
  it('--shard 0/2 and 1/2 together sync every target exactly once; SECRETSYNC_SHARDS + JOB_COMPLETION_INDEX equals --shard', async () => {
    // Given six targets, one importing a target that may fall in the other shard
    const names = ['web', 'api', 'jobs', 'billing', 'mail', 'cdn']
    config = await writeConfig(names.map((name) => target(name, name === 'mail' ? 'base, web' : 'base')).join(''))

    const shard0 = json(await pipeline(['--dry-run', '--json', '--shard', '0/2'])).targets.map((t) => t.name)
    const shard1 = json(await pipeline(['--dry-run', '--json', '--shard', '1/2'])).targets.map((t) => t.name)
    const fromEnv = json(
      await pipeline(['--dry-run', '--json'], {SECRETSYNC_SHARDS: '2', JOB_COMPLETION_INDEX: '1'}),
    ).targets.map((t) => t.name)

    expect(shard0.length).toBeGreaterThan(0)
    expect(shard1.length).toBeGreaterThan(0)
    expect([...shard0, ...shard1].sort()).toEqual([...names].sort())
    expect(fromEnv.sort()).toEqual([...shard1].sort())
    expect(writes()).toBe(0)
  })

  it('six equal targets over 3 shards are 2/2/2', async () => {
    config = await writeConfig(['a', 'b', 'c', 'd', 'e', 'f'].map((name) => target(name)).join(''))

    const sizes = []
    for (const index of [0, 1, 2])
      sizes.push(json(await pipeline(['--dry-run', '--json', '--shard', `${index}/3`])).targets.length)

    expect(sizes).toEqual([2, 2, 2])
  })

  it('a shard index outside the count is a usage error (exit 2) naming where it came from, before contacting anything', async () => {
    const flag = await pipeline(['--dry-run', '--shard', '2/2'], {}, {subprocess: true})
    const env = await pipeline(['--dry-run'], {SECRETSYNC_SHARDS: '2', JOB_COMPLETION_INDEX: '2'}, {subprocess: true})

    expect([flag.code, env.code]).toEqual([2, 2])
    expect(flag.stderr).toContain('--shard (SECRETSYNC_SHARD)')
    expect(env.stderr).toContain('JOB_COMPLETION_INDEX/SECRETSYNC_SHARDS')
    expect(stack.controls.count()).toBe(0)
  })
})
