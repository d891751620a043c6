import {describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'

// The in-process runner must return what the real process returns: same exit code, same stdout, same stderr,
// also where oclif itself ends the run (help, version, parse errors, an unknown command through its handler).

const config = `vault:
  address: http://127.0.0.1:8200
  auth: {method: token, token: root}
vault_sources:
  - {name: base, mount: secret/base/}
aws: {region: us-east-1}
targets:
  - {name: core, imports: [base]}
`

describe('in-process runs match real processes', () => {
  it.each([
    {name: 'a valid config (exit 0)', args: (file: string) => ['validate', '-c', file]},
    {name: 'a config error as JSON (exit 2)', args: () => ['validate', '-c', '/nonexistent/secretsync.yaml', '--json']},
    {
      name: 'a bad flag value (oclif parse error, exit 2)',
      args: (file: string) => ['graph', '-c', file, '--format', 'svg'],
    },
    {name: 'an unknown command (oclif handler)', args: () => ['no-such-command']},
    {name: '--version', args: () => ['--version']},
    {name: 'a topic help', args: () => ['version', '--help']},
  ])('$name', async ({args}) => {
    const argv = args(await writeTempConfig(config))
    const inProcess = await runCli(argv)
    const subprocess = await runCli(argv, {subprocess: true})
    expect(inProcess).toEqual(subprocess)
    expect(inProcess.stdout + inProcess.stderr).not.toBe('')
  })

  it('a run started while another is going gets a process of its own, with the same result', async () => {
    const file = await writeTempConfig(config)
    const [first, second] = await Promise.all([runCli(['graph', '-c', file]), runCli(['graph', '-c', file])])
    expect(first).toEqual({code: 0, stdout: 'sources: base\nlevel 0:\n  core <- base\n', stderr: ''})
    expect(second).toEqual(first)
  })

  it('restores the worker: environment, working directory, exit code and streams', async () => {
    const before = {env: {...process.env}, cwd: process.cwd(), exitCode: process.exitCode, write: process.stdout.write}
    const result = await runCli(['validate', '-c', '/nonexistent/secretsync.yaml'], {
      env: {SECRETSYNC_LOG_LEVEL: 'debug'},
      cwd: '/tmp',
    })
    expect(result.code).toBe(2)
    expect({
      env: {...process.env},
      cwd: process.cwd(),
      exitCode: process.exitCode,
      write: process.stdout.write,
    }).toEqual(before)
  })
})
