import {spawn} from 'node:child_process'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ListSecretsCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {describe, expect, it} from 'vitest'
import {ROOT} from '../support/cli.js'

// `npm run sandbox` is how a new user meets secretsync: it must start, print a usable environment and run the main job.
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx')
const SANDBOX = join(ROOT, 'test', 'support', 'sandbox.ts')
// Port 0: any free port, so the test never collides with a sandbox a developer has running.
const env = {
  ...process.env,
  SANDBOX_STATE_DIR: join(tmpdir(), `sandbox-state-unused-${process.pid}`),
  SANDBOX_VAULT_PORT: '0',
  SANDBOX_AWS_PORT: '0',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
}

/** Runs `npm run sandbox -- <args>` (as tsx runs it) with its state in `stateDir`; its code and stdout. */
async function sandbox(args: string[], stateDir: string): Promise<{code: number | null; stdout: string}> {
  const child = spawn(TSX, [SANDBOX, ...args], {env: {...env, SANDBOX_STATE_DIR: stateDir}, cwd: ROOT})
  let stdout = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.resume()
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  return {code, stdout}
}

type Summary = {dry_run: boolean; summary: {created: number; unchanged: number; conflicts: number}}

describe('npm run sandbox', () => {
  it('keeps the AWS side between invocations: `pipeline` then `pipeline --dry-run` shows the first apply; `reset` forgets it', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'sandbox-state-'))
    const quiet = ['-o', 'json', '--log-level', 'error']

    const applied = await sandbox(['pipeline', ...quiet], stateDir)
    const planned = await sandbox(['pipeline', '--dry-run', ...quiet], stateDir)
    const reset = await sandbox(['reset'], stateDir)
    const fresh = await sandbox(['pipeline', '--dry-run', ...quiet], stateDir)

    expect([applied.code, planned.code, reset.code, fresh.code]).toEqual([0, 0, 0, 0])
    const [first, second, afterReset] = [applied, planned, fresh].map((run) => JSON.parse(run.stdout) as Summary)
    expect(first?.summary.created).toBeGreaterThan(0)
    // The second run plans against what the first one wrote: nothing left to create
    expect(second?.summary).toMatchObject({created: 0, unchanged: first?.summary.created})
    expect(afterReset?.summary.created).toBe(first?.summary.created)
  })

  it('with a command: runs `pipeline --dry-run` against the sandbox and exits with its code', async () => {
    const child = spawn(TSX, [SANDBOX, 'pipeline', '--dry-run', '-o', 'json', '--log-level', 'error'], {env, cwd: ROOT})
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(code).toBe(0)
    const result = JSON.parse(stdout) as {dry_run: boolean; summary: {targets: number; created: number}}
    expect(result.dry_run).toBe(true)
    expect(result.summary.targets).toBe(2)
    expect(result.summary.created).toBeGreaterThan(0)
  })

  it('without a command: prints an environment an SDK client built from the defaults can use, and stops on SIGINT', async () => {
    const child = spawn(TSX, [SANDBOX], {env, cwd: ROOT})
    let stdout = ''
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        if (stdout.includes('Ctrl-C')) resolve()
      }),
    )
    const exported = Object.fromEntries(
      [...stdout.matchAll(/^export ([A-Z_]+)=(.*)$/gm)].map((m) => [m[1] as string, m[2] as string]),
    )
    expect(Object.keys(exported)).toEqual(
      expect.arrayContaining([
        'VAULT_ADDR',
        'VAULT_ROLE_ID',
        'VAULT_SECRET_ID',
        'AWS_ENDPOINT_URL',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_REGION',
      ]),
    )
    const saved = {...process.env}
    try {
      Object.assign(process.env, exported)
      const client = new SecretsManagerClient({})
      const listed = await client.send(new ListSecretsCommand({}))
      expect(listed.SecretList).toEqual([])
      client.destroy()
    } finally {
      for (const key of Object.keys(exported)) if (!(key in saved)) delete process.env[key]
      Object.assign(process.env, saved)
    }
    child.kill('SIGINT')
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0)
  })
})
