import {mkdir, mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runAction, type ActionRun} from '../support/action.js'
import {pipelineConfigText, secretsManagerWrites} from '../support/e2e.js'
import {githubProblems} from '../support/output-oracle.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// The action as the runner runs it: `node action/dist/index.js` (the committed bundle) with INPUT_* and GITHUB_*
// set, against the in-process Vault and AWS. The config sits in a subdirectory of the workspace, reached through
// the working-directory input.

const ACCOUNT = '111111111111'
let stack: TestStack
let workspace: string

const CONFIG = pipelineConfigText({
  targets: `  - name: app\n    account_id: "${ACCOUNT}"\n    imports: [base]\n    secret_prefix: app/\n`,
  extra: 'logging: {level: warn}\n',
})

const action = (event: string, inputs: Record<string, string> = {}, env: Record<string, string> = {}) =>
  runAction({event, inputs: {'working-directory': 'infra', ...inputs}, env: {...stack.env, ...env}, cwd: workspace})

const awsValue = (name: string): unknown =>
  JSON.parse(stack.aws.secretsManager.getSecret(ACCOUNT, 'us-east-1', name)?.value ?? 'null')
const s3Writes = (): number => stack.controls.count({service: 's3', operation: 'PutObject'})
const why = (run: ActionRun): string => `exit ${run.code}\n${run.stderr}\n${run.stdout.slice(0, 2000)}`

beforeEach(async () => {
  stack = await startTestStack({
    vault: {secrets: {'secret/base/db': {user: 'app', password: 'VALUE-pw-1'}, 'secret/base/api': {key: 'VALUE-k-1'}}},
    aws: {buckets: ['merge-store']},
  })
  workspace = await mkdtemp(join(tmpdir(), 'secretsync-workspace-'))
  await mkdir(join(workspace, 'infra'))
  await writeFile(join(workspace, 'infra', 'secretsync.yaml'), CONFIG)
})
afterEach(async () => {
  await stack.close()
})

describe('plan by default where it must', () => {
  it('pull_request without dry-run plans: nothing written to AWS or S3, and the summary says why', async () => {
    // When the action runs on a pull_request event without the dry-run input
    const run = await action('pull_request')

    // Then it planned both creates, wrote nothing, and said so in the outputs, the log and the summary
    expect(run.code, why(run)).toBe(0)
    expect(secretsManagerWrites(stack.controls)).toBe(0)
    expect(s3Writes()).toBe(0)
    expect(run.outputs).toMatchObject({'exit-code': '0', 'dry-run': 'true', created: '2', 'has-changes': 'true'})
    expect(run.summary).toContain('## secretsync plan (dry run, nothing written)')
    expect(run.summary).toContain('pull\\_request events plan by default')
    expect(run.stdout).toMatch(/^::notice title=secretsync mode::Plan \(dry run\): dry-run is not set/m)
    expect(githubProblems('action log', run.stdout, ['VALUE-'])).toEqual([])
  })

  it('pull_request_target plans too; an explicit dry-run: false on a pull request applies, and says so', async () => {
    // When it runs on pull_request_target without the input, then on pull_request with dry-run: false
    const target = await action('pull_request_target')
    expect(target.code, why(target)).toBe(0)
    expect(target.outputs['dry-run']).toBe('true')
    expect(secretsManagerWrites(stack.controls)).toBe(0)
    const applied = await action('pull_request', {'dry-run': 'False'})

    // Then only the explicit input applied
    expect(applied.code, why(applied)).toBe(0)
    expect(applied.outputs['dry-run']).toBe('false')
    expect(awsValue('app/db')).toEqual({user: 'app', password: 'VALUE-pw-1'})
    expect(applied.summary).toContain('Apply: the dry-run input is false, so this pull\\_request event applies')
  })

  it('push applies: the secrets are in AWS, the outputs count them', async () => {
    // When the action runs on a push without the dry-run input
    const run = await action('push')

    // Then
    expect(run.code, why(run)).toBe(0)
    expect(awsValue('app/api')).toEqual({key: 'VALUE-k-1'})
    expect(run.outputs).toMatchObject({
      'exit-code': '0',
      'dry-run': 'false',
      created: '2',
      'failed-targets': '0',
      'has-changes': 'true',
      // the 0.1 names, still written
      failed_targets: '0',
      has_changes: 'true',
    })
    expect(run.summary).toContain('## secretsync apply')
    expect(run.summary).toContain('Apply: dry-run is not set, and push events apply by default.')
    // and the whole JSON report waits in $RUNNER_TEMP for an upload
    const report = JSON.parse(await readFile(run.outputs['report-file'] ?? 'missing', 'utf8')) as {
      summary: {created: number}
    }
    expect(report.summary.created).toBe(2)
  })

  it('merge-only writes its summary and outputs', async () => {
    // When only the merge phase runs, on a schedule
    const run = await action('schedule', {'merge-only': 'true'})

    // Then the snapshot is written, nothing is synced, and the summary and outputs are the merge's
    expect(run.code, why(run)).toBe(0)
    expect(secretsManagerWrites(stack.controls)).toBe(0)
    expect(run.outputs).toMatchObject({'exit-code': '0', targets: '1', 'new-versions': '1', 'has-changes': 'true'})
    expect(run.summary).toContain('## secretsync merge (snapshots only, no sync)')
    expect(run.summary).toMatch(/\| app \| created \| 2 \|/)
  })
})

describe('inputs are checked before anything is contacted', () => {
  it.each([
    ['dry-run', 'yes'],
    ['show-values', '1'],
    ['merge-only', 'on'],
  ])('%s: %s is a usage error (exit 2) naming the input, with an annotation and a summary', async (input, value) => {
    // When a boolean input is not a YAML 1.2 boolean
    const run = await action('push', {[input]: value})

    // Then exit 2 names it, nothing was contacted, and the failure is annotated and summarised
    expect(run.code, why(run)).toBe(2)
    expect(run.stderr).toContain(`input "${input}" must be true or false`)
    expect(stack.controls.count()).toBe(0)
    expect(run.stdout).toMatch(
      new RegExp(`^::error title=secretsync failed \\(exit 2\\)::BAD_BOOLEAN_INPUT: input "${input}"`, 'm'),
    )
    expect(run.summary).toContain('## secretsync failed (exit 2)')
    expect(run.outputs['exit-code']).toBe('2')
  })

  it('a SECRETSYNC_* variable the action would ignore is refused, naming the input to use', async () => {
    // When the job still sets the CLI variable for --dry-run
    const run = await action('push', {}, {SECRETSYNC_DRY_RUN: 'true'})

    // Then it does not apply as if the variable were not there
    expect(run.code, why(run)).toBe(2)
    expect(run.stderr).toContain('SECRETSYNC_DRY_RUN is set, but the Action reads the input "dry-run" instead')
    expect(stack.controls.count()).toBe(0)
  })

  it('a config error ends with exit 2, an ::error:: annotation and a step summary', async () => {
    // Given a config with an unknown key
    await writeFile(join(workspace, 'infra', 'secretsync.yaml'), `${CONFIG}bogus_key: 1\n`)

    // When the action runs
    const run = await action('push')

    // Then
    expect(run.code, why(run)).toBe(2)
    expect(run.stdout).toMatch(/^::error title=secretsync failed \(exit 2\)::CONFIG_INVALID: .*bogus_key/m)
    expect(run.summary).toContain('## secretsync failed (exit 2)')
    expect(run.summary).toContain('Apply: dry-run is not set, and push events apply by default.')
    expect(run.outputs).toEqual({'exit-code': '2', 'dry-run': 'false'})
    expect(stack.controls.count()).toBe(0)
  })
})

describe('the workspace', () => {
  it('a missing config is explained in the terms of the action; a missing working-directory is named', async () => {
    // When the config input names no file, and then the working directory does not exist
    const missing = await action('push', {config: 'nope.yaml'})
    const nowhere = await action('push', {'working-directory': 'no-such-dir'})

    // Then both are usage errors that say which input to fix
    expect(missing.code, why(missing)).toBe(2)
    expect(missing.summary).toContain('Set the \\`config\\` input')
    expect(missing.summary).not.toContain('SECRETSYNC_CONFIG')
    expect(nowhere.code, why(nowhere)).toBe(2)
    expect(nowhere.stderr).toContain('input "working-directory": cannot enter "no-such-dir"')
  })
})

describe('the report file', () => {
  it.each([
    ['a small report', 2],
    ['a report larger than one write', 400],
  ])('%s that cannot be written is an error naming the file: exit 1, the other outputs written', async (_, count) => {
    // Given enough secrets for the report's size, and a RUNNER_TEMP that does not exist
    for (let i = 0; i < count; i++) stack.vault.putSecret('secret/', `base/s${i}`, {value: `VALUE-${i}`})
    const missing = join(workspace, 'no-such-temp')

    // When the action applies them
    const run = await action('push', {}, {RUNNER_TEMP: missing})

    // Then the secrets are applied, the failed write is named, and the step still has its outputs
    expect(run.code, why(run)).toBe(1)
    expect(awsValue('app/s1')).toEqual({value: 'VALUE-1'})
    expect(run.stderr).toMatch(/^Error: could not write the report file .*no-such-temp.*: .*ENOENT/m)
    expect(run.outputs['exit-code']).toBe('1')
    expect(run.outputs['report-file']).toBeUndefined()
    expect(run.outputs.created).toBe(String(count + 2))
    // and the summary is the apply's, not a failed run's
    expect(run.summary).toContain('## secretsync apply')
    expect(run.summary).not.toContain('## secretsync failed')
  })
})

describe('show-values in the Actions log', () => {
  it('registers every shown value with ::add-mask:: first, outside the stop-commands fences', async () => {
    // Given applied secrets and a new password in Vault
    expect((await action('push')).code).toBe(0)
    stack.vault.putSecret('secret/', 'base/db', {user: 'app', password: 'VALUE-pw-2'})

    // When a plan shows values
    const run = await action('pull_request', {'show-values': 'true'})

    // Then the changed values are shown, each registered before anything else is printed, and only those
    expect(run.code, why(run)).toBe(0)
    expect(run.stdout, run.stdout).toContain('~ password: "VALUE-pw-1" -> "VALUE-pw-2"')
    const lines = run.stdout.split('\n')
    const firstOther = lines.findIndex((line) => !line.startsWith('::add-mask::'))
    expect(lines.slice(0, firstOther).sort()).toEqual(
      ['"VALUE-pw-1"', 'VALUE-pw-1', '"VALUE-pw-2"', 'VALUE-pw-2'].map((value) => `::add-mask::${value}`).sort(),
    )
    expect(lines.slice(firstOther).some((line) => line.startsWith('::add-mask::'))).toBe(false)
    expect(githubProblems('action log', run.stdout, ['VALUE-pw-1', 'VALUE-pw-2'])).toEqual([])
    expect(run.summary).not.toContain('VALUE-')
    // no report file: it would hold the values, and an artifact outlives the log
    expect(run.outputs['report-file']).toBeUndefined()
  })

  it('masks in the other output formats too (output: json)', async () => {
    // When the result goes to the log as JSON with values
    const run = await action('pull_request', {'show-values': 'true', output: 'json'})

    // Then the masks come before the JSON that holds the values
    expect(run.code, why(run)).toBe(0)
    const firstJson = run.stdout.indexOf('{')
    const masks = run.stdout.slice(0, firstJson).split('\n')
    expect(masks).toEqual(expect.arrayContaining(['::add-mask::VALUE-k-1', '::add-mask::VALUE-pw-1']))
    expect(masks.filter((line) => line !== '').every((line) => line.startsWith('::add-mask::'))).toBe(true)
    expect(run.stdout.slice(firstJson)).toContain('"key": "VALUE-k-1"')
  })
})
