import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {startTestStack, type TestStack} from '../support/stack.js'

let stack: TestStack
beforeAll(async () => {
  stack = await startTestStack({
    vault: {secrets: {'secret/ok/a': {v: 1}, 'secret/big/a': {v: 1}, 'secret/big/b': {v: 2}}},
    aws: {buckets: ['store-p']},
  })
})
afterAll(async () => {
  await stack.close()
})

const config = (logging: string) =>
  writeTempConfig(`vault: {address: "\${VAULT_ADDR}", auth: {method: token}}
vault_sources:
  - {name: ok, mount: secret/ok/}
  - {name: big, mount: secret/big/, max_secrets: 1}
merge_store: {bucket: store-p, endpoint: "\${AWS_ENDPOINT_URL}"}
aws: {region: us-east-1}
targets:
  - {name: fine, imports: [ok]}
  - {name: broken, imports: [ok, big]}
${logging}`)

describe('settings that are also flags: flag > env > file > default', () => {
  const run = async (file: string, args: string[] = [], env: Record<string, string> = {}) =>
    runCli(['pipeline', '--merge-only', '--dry-run', '-c', file, ...args], {env: {...stack.env, ...env}})

  // Every run below fails the `big` source (exit 3), so there is always an error to log at level error.
  const onlyJsonErrors = (stderr: string) => {
    const lines = stderr.trimEnd().split('\n')
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) expect(JSON.parse(line) as unknown, line).toMatchObject({level: 'error'})
  }

  it('the file sets the log level and format when neither flag nor variable does', async () => {
    const {code, stderr} = await run(await config('logging: {level: error, format: json}\n'))
    expect(code).toBe(3)
    expect(stderr).not.toContain('merge phase started')
    onlyJsonErrors(stderr)
  })

  it('SECRETSYNC_LOG_LEVEL beats the file', async () => {
    const {stderr} = await run(await config('logging: {level: error, format: json}\n'), [], {
      SECRETSYNC_LOG_LEVEL: 'info',
    })
    expect(stderr).toContain('"message":"merge phase started"')
  })

  it('--log-level beats SECRETSYNC_LOG_LEVEL, and --log-format beats the file', async () => {
    const file = await config('logging: {level: error, format: json}\n')
    const quiet = await run(file, ['--log-level', 'error'], {SECRETSYNC_LOG_LEVEL: 'info'})
    expect(quiet.code).toBe(3)
    expect(quiet.stderr).not.toContain('merge phase started')
    onlyJsonErrors(quiet.stderr)
    const text = await run(file, ['--log-level', 'info', '--log-format', 'text'])
    expect(text.code).toBe(3)
    expect(text.stderr).toMatch(/ info {2}merge phase started/)
    expect(text.stderr).not.toContain('"message":')
  })

  it('without any setting the default is info, JSON', async () => {
    expect((await run(await config(''))).stderr).toContain('"level":"info","message":"merge phase started"')
  })
})

describe('a failed source fails exactly the targets that import it', () => {
  it('max_secrets exceeded: the importing target fails without a snapshot, the other goes on, exit 3', async () => {
    stack.controls.resetCounters()
    // A real process: exit 3 as the shell sees it.
    const {code, stdout} = await runCli(
      ['pipeline', '--merge-only', '-c', await config('logging: {level: error}\n'), '--json'],
      {env: stack.env, subprocess: true},
    )
    expect(code).toBe(3)
    const result = JSON.parse(stdout) as {
      sources: Array<{name: string; status: string; error: string | null}>
      targets: Array<{name: string; status: string; error: string | null}>
    }
    expect(result.sources.find((s) => s.name === 'big')).toMatchObject({status: 'failed'})
    expect(result.sources.find((s) => s.name === 'big')?.error).toMatch(
      /^\[run=[0-9a-f]+\] walk secret\/big\/ after \d+ ms \(0 retries\): more than max_secrets \(1\)/,
    )
    expect(result.targets.find((t) => t.name === 'fine')).toMatchObject({status: 'created', error: null})
    expect(result.targets.find((t) => t.name === 'broken')).toMatchObject({status: 'failed'})
    expect(stack.aws.s3.listKeys('store-p').filter((key) => key.startsWith('broken/'))).toEqual([])
    expect(stack.aws.s3.listKeys('store-p')).toContain('fine/v1.json')
  })
})
