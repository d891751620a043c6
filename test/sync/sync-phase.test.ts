import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {loadProject} from '../../src/config/index.js'
import {ExitCode} from '../../src/errors.js'
import {buildAdapters} from '../../src/pipeline/compose.js'
import {syncExitCode} from '../../src/exit-codes.js'
import {syncStage} from '../../src/pipeline/sync-stage.js'
import type {DesiredTarget} from '../../src/sync/sync-phase.js'
import type {JsonObject} from '../../src/util/canonical-json.js'
import {writeTempConfig} from '../support/cli.js'
import {secretsManagerWrites} from '../support/e2e.js'
import {recordingRuntime} from '../support/runtime.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// The sync phase in-process through the composition root, with desired states built by hand: what the merge
// phase hands over (including `incomplete`) is the input, the test Secrets Manager and S3 are real servers.

const ACCOUNT = '111111111111'
let stack: TestStack

beforeEach(async () => {
  stack = await startTestStack({aws: {buckets: ['merge-store']}})
  for (const [key, value] of Object.entries(stack.env)) vi.stubEnv(key, value)
})
afterEach(async () => {
  vi.unstubAllEnvs()
  await stack.close()
})

async function project(sync: string, targets = ['app']) {
  const file = await writeTempConfig(`vault:
  address: ${stack.vault.url}
  auth: {method: token}
vault_sources:
  - {name: base, mount: secret/base/}
merge_store:
  bucket: merge-store
  endpoint: ${stack.aws.url}
aws:
  region: us-east-1
  endpoint: ${stack.aws.url}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
targets:
${targets.map((name) => `  - {name: ${name}, account_id: "${ACCOUNT}", imports: [base], secret_prefix: ${name}/}\n`).join('')}sync: ${sync}
`)
  return loadProject(file, {env: {}})
}

const secrets = (...names: string[]): Map<string, JsonObject> => new Map(names.map((name) => [name, {v: name}]))
const desired = (name: string, paths: string[], incomplete: string[] = [], snapshotVersion = 1): DesiredTarget => ({
  name,
  ok: true,
  secrets: secrets(...paths),
  snapshotVersion,
  incomplete,
})

async function sync(sync: string, targets: DesiredTarget[], dryRun = false) {
  const {config, graph} = await project(
    sync,
    targets.map((t) => t.name),
  )
  const runtime = recordingRuntime('info')
  const adapters = buildAdapters(config, runtime, {})
  try {
    const staged = await syncStage({config, graph, runtime, adapters, desired: targets, dryRun})
    const result = {...staged, targets: [...staged.targets]}
    staged.targets.close()
    return {result, exitCode: syncExitCode(result, false)}
  } finally {
    adapters.breakers.shutdown()
  }
}

const live = (prefix: string) =>
  stack.aws.secretsManager.listNames(ACCOUNT, 'us-east-1').filter((name) => name.startsWith(prefix))

describe('sync phase: held deletions', () => {
  it('an incomplete desired state holds the orphan deletions, names the reason, and still applies creates and updates', async () => {
    // Given a target synced with three secrets
    await sync('{delete_orphans: true}', [desired('app', ['a', 'b', 'c'])])
    expect(live('app/')).toEqual(['app/a', 'app/b', 'app/c'])

    // When the next desired state lacks b and c, adds d, and the walk of a source feeding it was incomplete
    const reason = 'source base: folder secret/base/team/ answered 403; 1 folder not walked'
    stack.controls.resetCounters()
    const {result, exitCode} = await sync('{delete_orphans: true}', [desired('app', ['a', 'd'], [reason], 2)])

    // Then d is created, nothing is deleted, and both deletions are listed as held with the reason
    const target = result.targets[0]
    expect(target?.status).toBe('applied')
    expect(target?.changes.map((c) => [c.action, c.name, c.held])).toEqual([
      ['create', 'app/d', false],
      ['delete', 'app/b', true],
      ['delete', 'app/c', true],
    ])
    expect(target?.changes[1]?.error).toContain(reason)
    expect(target?.error).toContain('2 orphan deletions held, nothing deleted')
    expect(result.summary).toMatchObject({created: 1, deleted: 0, failed: 2, held: 2})
    expect(exitCode).toBe(ExitCode.partial)
    expect(stack.controls.count({service: 'secretsmanager', operation: 'DeleteSecret'})).toBe(0)
    expect(live('app/')).toEqual(['app/a', 'app/b', 'app/c', 'app/d'])

    // And once the walk is complete again the deletions go ahead
    const complete = await sync('{delete_orphans: true}', [desired('app', ['a', 'd'], [], 3)])
    expect(complete.result.summary).toMatchObject({deleted: 2, held: 0, failed: 0})
    expect(complete.exitCode).toBe(ExitCode.success)
  })

  it('a dry run shows the same held deletions and writes nothing', async () => {
    await sync('{delete_orphans: true}', [desired('app', ['a', 'b'])])
    stack.controls.resetCounters()
    const {result, exitCode} = await sync(
      '{delete_orphans: true}',
      [desired('app', ['a'], ['source base: max_depth 3 cut 2 folders'], 2)],
      true,
    )
    expect(result.targets[0]?.changes).toMatchObject([{action: 'delete', name: 'app/b', held: true}])
    expect(result.summary.held).toBe(1)
    expect(exitCode).toBe(ExitCode.partial)
    expect(secretsManagerWrites(stack.controls)).toBe(0)
  })
})

describe('sync phase: one deletion budget for the run', () => {
  it('2 targets x 3 orphans with max_deletions 5: every deletion of the run is held, the rest applied', async () => {
    await sync('{delete_orphans: true, max_deletions: 10}', [
      desired('one', ['k', 'o1', 'o2', 'o3']),
      desired('two', ['k', 'o1', 'o2', 'o3']),
    ])
    stack.controls.resetCounters()
    const next = [desired('one', ['k', 'new'], [], 2), desired('two', ['k'], [], 2)]

    const plan = await sync('{delete_orphans: true, max_deletions: 5}', next, true)
    expect(plan.result.summary).toMatchObject({created: 1, deleted: 0, held: 6})
    expect(plan.exitCode).toBe(ExitCode.partial)

    const {result, exitCode} = await sync('{delete_orphans: true, max_deletions: 5}', next)
    expect(result.summary).toMatchObject({created: 1, deleted: 0, held: 6, failed: 6})
    expect(result.targets.every((t) => t.error?.includes('more than sync.max_deletions (5)'))).toBe(true)
    expect(exitCode).toBe(ExitCode.partial)
    expect(stack.controls.count({service: 'secretsmanager', operation: 'DeleteSecret'})).toBe(0)
    expect(live('one/')).toEqual(['one/k', 'one/new', 'one/o1', 'one/o2', 'one/o3'])

    const allowed = await sync('{delete_orphans: true, max_deletions: 6}', next)
    expect(allowed.result.summary).toMatchObject({deleted: 6, held: 0})
    expect(allowed.exitCode).toBe(ExitCode.success)
  })
})

describe('sync phase: asked to stop', () => {
  it('a target whose turn comes after the stop is reported interrupted without being taken (merged)', async () => {
    // Given three targets synced one at a time, and a stop (SIGTERM) that arrives while the first is taken
    const {config, graph} = await project('{concurrency: 1}', ['one', 'two', 'three'])
    const stop = new AbortController()
    const runtime = recordingRuntime('info', stop.signal)
    const adapters = buildAdapters(config, runtime, {})
    const taken: string[] = []
    const states = {
      names: ['one', 'two', 'three'],
      take: (name: string) => {
        taken.push(name)
        stop.abort()
        return Promise.resolve(desired(name, ['k']))
      },
    }

    // When the sync phase runs
    try {
      const staged = await syncStage({config, graph, runtime, adapters, desired: states, dryRun: false})
      const targets = [...staged.targets]
      staged.targets.close()

      // Then only the first was taken; every target is reported interrupted, and nothing was written
      expect(taken).toEqual(['one'])
      expect(targets.map((t) => [t.name, t.status, t.error])).toEqual([
        ['one', 'skipped', 'interrupted'],
        ['two', 'skipped', 'interrupted'],
        ['three', 'skipped', 'interrupted'],
      ])
      expect(secretsManagerWrites(stack.controls)).toBe(0)
    } finally {
      adapters.breakers.shutdown()
    }
  })
})
