import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {runCli, startCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput, pipelineConfigText} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// A run stopped mid-sync, as `docker stop` (SIGTERM), Ctrl-C or the OOM killer (SIGKILL) stop it, with the
// built CLI in a real subprocess. Slow Secrets Manager writes (the stack's latency control) keep it mid-sync.

const ACCOUNT = '111111111111'
const REGION = 'us-east-1'
const SECRETS = 24
const BUCKET = 'merge-store'

let stack: TestStack
let config: string

interface SyncJson {
  targets: Array<{
    name: string
    status: string
    error: string | null
    changes: Array<{action: string; name: string; error: string | null}>
  }>
}

const desired = (i: number) => ({user: `u${i}`, password: `pw-${i}`})
const names = Array.from({length: SECRETS}, (_, i) => `app/s${String(i).padStart(2, '0')}`)

beforeEach(async () => {
  const secrets = Object.fromEntries(names.map((name, i) => [`secret/base/${name.slice(4)}`, desired(i)]))
  stack = await startTestStack({vault: {secrets}, aws: {buckets: [BUCKET]}})
  config = await writeTempConfig(
    pipelineConfigText({
      bucket: BUCKET,
      region: REGION,
      targets: `  - {name: app, account_id: "${ACCOUNT}", imports: [base], secret_prefix: app/}\n`,
      extra: 'logging: {level: warn}\n',
    }),
  )
  // Each CreateSecret takes a second: with 8 writes in flight the sync needs three rounds.
  stack.controls.setLatency({service: 'secretsmanager', operation: 'CreateSecret', ms: 1000})
})
afterEach(async () => {
  await stack.close()
})

const creates = () => stack.controls.count({service: 'secretsmanager', operation: 'CreateSecret'})
const inAws = () => stack.aws.secretsManager.listNames(ACCOUNT, REGION)
const lockObject = () => stack.aws.s3.getObject(BUCKET, 'locks/app.json')
const appliedRecord = () => {
  const object = stack.aws.s3.getObject(BUCKET, `app/applied/${ACCOUNT}-${REGION}.json`)
  return object && (JSON.parse(object.body.toString('utf8')) as {secrets: Record<string, {version_id: string}>})
}

/** Starts `pipeline --json` and resolves once its first CreateSecret reached AWS: the run is mid-sync. */
async function pipelineMidSync() {
  const started = startCli(['pipeline', '-c', config, '--json'], {env: stack.env})
  await vi.waitFor(() => expect(creates()).toBeGreaterThan(0), {timeout: 60_000, interval: 20})
  return started
}

/** Then a re-run converges: every secret holds its value with exactly one version (no duplicate writes). */
async function expectRerunConverges() {
  stack.controls.clear()
  const rerun = await runCli(['pipeline', '-c', config, '--json'], {env: stack.env})
  expect(rerun.code, rerun.stderr).toBe(0)
  expect(inAws()).toEqual(names)
  names.forEach((name, i) => {
    const secret = stack.aws.secretsManager.getSecret(ACCOUNT, REGION, name)
    expect(JSON.parse(secret?.value ?? 'null')).toEqual(desired(i))
    expect(secret?.versions, name).toHaveLength(1)
  })
  expect(lockObject()).toBeUndefined()
}

// A container starts the CLI as PID 1, for which the kernel ignores every signal the process has no handler for.
// `unshare` (a new PID namespace, unprivileged through a user namespace) reproduces that without a Docker engine.
const UNSHARE = ['unshare', '--user', '--map-root-user', '--pid', '--fork', '--mount-proc']
const canRunAsPid1 = spawnSync(UNSHARE[0] as string, [...UNSHARE.slice(1), 'true']).status === 0

/** The host pid of the process `unshare --fork` started (its only child), and that process's pid inside. */
function pid1Of(unsharePid: number): {hostPid: number; innerPid: number} {
  const children = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(/\s+/)
  const hostPid = Number(children[0])
  const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${hostPid}/status`, 'utf8'))?.[1]?.split(/\s+/) ?? []
  return {hostPid, innerPid: Number(nspid.at(-1))}
}

describe('signals', () => {
  it.skipIf(!canRunAsPid1)(
    'as PID 1 (how a container runs it, no init), SIGTERM mid-sync reaches the CLI: exit 143, lock released',
    async () => {
      // Given the CLI started as PID 1 of its own PID namespace, writing
      const run = startCli(['pipeline', '-c', config, '--json'], {env: stack.env, prefix: UNSHARE})
      await vi.waitFor(() => expect(creates()).toBeGreaterThan(0), {timeout: 60_000, interval: 20})
      const {hostPid, innerPid} = pid1Of(run.child.pid as number)
      expect(innerPid).toBe(1)

      // When the runtime sends SIGTERM from outside the namespace, as `docker stop` and the kubelet do
      process.kill(hostPid, 'SIGTERM')
      const ended = await run.done

      // Then the CLI's own handler ran: it stopped, recorded what it wrote, released the lock and exited 143
      expect(ended.code, ended.stderr).toBe(143)
      expect(ended.stderr).toContain('Received SIGTERM')
      expect(inAws().length).toBeLessThan(SECRETS)
      expect(lockObject()).toBeUndefined()
    },
  )

  it('SIGTERM mid-sync: no new writes, in-flight ones finish and are recorded, the lock is released, exit 143; a re-run converges', async () => {
    // Given a sync that is writing
    const run = await pipelineMidSync()

    // When it receives SIGTERM
    run.child.kill('SIGTERM')
    const ended = await run.done

    // Then it exits 143 by itself, having started no write after the signal
    expect(ended.signal).toBeNull()
    expect(ended.code, ended.stderr).toBe(143)
    expect(ended.stderr).toContain('Received SIGTERM')
    const written = inAws()
    expect(written.length).toBeGreaterThan(0)
    expect(written.length).toBeLessThan(SECRETS)
    expect(creates()).toBe(written.length)
    // ... the report is still printed: what was written, and what was not and why
    const json = parseJsonOutput<SyncJson>({...ended, code: ended.code ?? -1})
    const changes = json.targets[0]?.changes ?? []
    expect(
      changes
        .filter((c) => c.error === null)
        .map((c) => c.name)
        .sort(),
    ).toEqual(written)
    expect(
      changes
        .filter((c) => c.error !== null)
        .every((c) => c.error?.includes('not applied: the run was interrupted (SIGTERM)')),
    ).toBe(true)
    // ... the applied record holds exactly what was written, and the lock is gone
    expect(Object.keys(appliedRecord()?.secrets ?? {}).sort()).toEqual(written)
    expect(lockObject()).toBeUndefined()

    await expectRerunConverges()
  })

  it('a second SIGTERM exits at once, without waiting for the calls in flight', async () => {
    // Given a sync that is writing (slowly: the in-flight writes must outlast this test's waits) and has been
    // asked to stop once
    stack.controls.setLatency({service: 'secretsmanager', operation: 'CreateSecret', ms: 5000})
    const run = await pipelineMidSync()
    run.child.kill('SIGTERM')
    await vi.waitFor(() => expect(run.stderr()).toContain('Received SIGTERM'), {timeout: 30_000, interval: 10})

    // When the signal comes again while its writes are still in flight. Writes that had
    // passed the stop check before the first signal may still be on their way to the server on a loaded machine:
    // wait until the server has received them all (no new one for 250 ms, well inside the five seconds each takes).
    let inFlight = creates()
    await vi.waitFor(
      async () => {
        const seen = creates()
        await new Promise((resolve) => setTimeout(resolve, 250))
        inFlight = creates()
        expect(inFlight).toBe(seen)
      },
      {timeout: 10_000, interval: 0},
    )
    run.child.kill('SIGTERM')
    const ended = await run.done

    // Then it is gone with 143 before those writes answered: no report, and its lock is left for the next run
    expect(ended.code).toBe(143)
    expect(ended.stdout).toBe('')
    expect(creates()).toBe(inFlight)
    expect(lockObject()).toBeDefined()
  })

  it('SIGINT before the sync starts writing skips the target as interrupted and exits 130', async () => {
    // Given a run that is still reading Vault (every Vault read is slow)
    stack.controls.setLatency({service: 'vault', ms: 300})
    const run = startCli(['pipeline', '-c', config, '--json'], {env: stack.env})
    await vi.waitFor(() => expect(stack.controls.count({service: 'vault'})).toBeGreaterThan(2), {
      timeout: 60_000,
      interval: 20,
    })

    // When it receives SIGINT (Ctrl-C)
    run.child.kill('SIGINT')
    const ended = await run.done

    // Then nothing was written anywhere, the target says why, and the exit code is 130
    expect(ended.code, ended.stderr).toBe(130)
    expect(creates()).toBe(0)
    expect(stack.controls.count({service: 's3', operation: 'PutObject'})).toBe(0)
    expect(parseJsonOutput<SyncJson>({...ended, code: ended.code ?? -1}).targets).toMatchObject([
      {name: 'app', status: 'skipped', error: 'interrupted'},
    ])
  })

  it('SIGKILL mid-sync leaves its lock; the next run on the same host sees the holder is dead, takes over and converges', async () => {
    // Given a sync that is writing
    const run = await pipelineMidSync()

    // When it is killed outright
    run.child.kill('SIGKILL')
    const ended = await run.done
    expect(ended.signal).toBe('SIGKILL')

    // Then its lock stays behind, naming the dead process
    const lock = JSON.parse(lockObject()?.body.toString('utf8') ?? '{}') as {pid?: number; host?: string}
    expect(lock.pid).toBe(run.child.pid)
    expect(appliedRecord()).toBeUndefined()

    // ... and a re-run does not wait for it to expire; in-flight creates that landed are not written twice
    await expectRerunConverges()
  })
})

describe('secretsync unlock', () => {
  it('is in --help, refuses a live lock without --force, and says what it removed with --force', async () => {
    const help = await runCli(['--help'], {env: stack.env})
    expect(help.stdout).toMatch(/unlock\s+Remove a target's run lock/)

    // Given a live lock held by a run on another host
    const record = {
      owner: 'build-7:12',
      run_id: 'run-live',
      expires_at: new Date(Date.now() + 600_000).toISOString(),
      host: 'build-7',
      pid: 12,
    }
    stack.aws.s3.putObject(BUCKET, 'locks/app.json', JSON.stringify(record))

    const refused = await runCli(['unlock', '-c', config, '--target', 'app'], {env: stack.env})
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('locked by build-7:12 (run run-live)')
    expect(refused.stderr).toContain('--force')
    expect(lockObject()).toBeDefined()

    const forced = await runCli(['unlock', '-c', config, '--target', 'app', '--force', '--json'], {env: stack.env})
    expect(forced.code, forced.stderr).toBe(0)
    expect(JSON.parse(forced.stdout)).toMatchObject({
      target: 'app',
      status: 'removed',
      removed: record,
      location: `s3://${BUCKET}/locks/app.json`,
    })
    expect(lockObject()).toBeUndefined()
  })
})
