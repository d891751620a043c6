import {mkdtemp, readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig, type CliResult} from '../support/cli.js'
import {pipelineConfigText} from '../support/e2e.js'
import {githubProblems, leaks, lineProblems} from '../support/output-oracle.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// The built CLI against the test stack, with a Vault key, a value and an account name written by an attacker:
// terminal escapes, a forged `::error::` line, `##[set-output …]`, bidi and C1 characters. Every output format and
// both log formats must show them escaped, never as commands; JSON must carry them exactly.

const ACCOUNT = '111111111111'
const HOSTILE = 'k\u001b]0;pwn\u0007\u009b31m\r\n::error::forged##[set-output name=pwnkey;]k\u202e\u200b'
const VALUE = `VALUE-MARKER-\u001b[2J\n::add-mask::x##[add-mask]y`
const BAD_NAME = `bad${HOSTILE}`

interface Run extends CliResult {
  label: string
}

let stack: TestStack
let env: Record<string, string>
let config: string
let discoveryConfig: string
let github: {summary: string; output: string}

const configText = (extra = '') =>
  pipelineConfigText({
    targets: `  - {name: app, account_id: "${ACCOUNT}", imports: [base], secret_prefix: app/}\n`,
    extra: `retry: {max_attempts: 1, base_delay: 10ms}\n${extra}`,
  })

const cli = async (label: string, args: string[], configFile = config): Promise<Run> => ({
  label,
  ...(await runCli([...args, '-c', configFile], {env, timeoutMs: 60_000})),
})

/** Every human-facing stream of a run: stdout unless it is JSON or the GitHub log (checked on their own), and stderr. */
const humanProblems = (run: Run, stdoutToo = true): string[] => [
  ...(stdoutToo ? lineProblems(`${run.label} stdout`, run.stdout) : []),
  ...lineProblems(`${run.label} stderr`, run.stderr),
]

beforeAll(async () => {
  stack = await startTestStack({
    vault: {
      secrets: {
        'secret/base/db': {user: 'app', [HOSTILE]: VALUE},
        [`secret/base/${BAD_NAME}`]: {a: 'b'},
      },
    },
    aws: {
      buckets: ['merge-store'],
      organization: {accounts: [{id: '333333333333', name: HOSTILE, tags: {Environment: `prod${HOSTILE}`}}]},
    },
  })
  const dir = await mkdtemp(join(tmpdir(), 'secretsync-hostile-'))
  github = {summary: join(dir, 'summary.md'), output: join(dir, 'output')}
  env = {...stack.env, GITHUB_STEP_SUMMARY: github.summary, GITHUB_OUTPUT: github.output}
  config = await writeTempConfig(configText())
  discoveryConfig = await writeTempConfig(
    configText(`discovery:
  - name: workloads
    type: aws_organizations
    filters: [{tag: Environment, values: ["prod*"]}]
    target: {region: us-east-1, imports: [base], secret_prefix: wl/}
`),
  )
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('hostile names, keys, values and errors through the built CLI', () => {
  it('a plan in text, compact and github, with text and JSON logs: escaped, never a command, values never shown', async () => {
    // Given a Vault key and value crafted as terminal escapes and workflow commands, and a secret named with them
    // When the plan is printed in every human format, with both log formats
    const runs = [
      await cli('plan -o text [text logs]', [
        'pipeline',
        '--dry-run',
        '-o',
        'text',
        '--log-format',
        'text',
        '--log-level',
        'debug',
      ]),
      await cli('plan -o compact [json logs]', [
        'pipeline',
        '--dry-run',
        '-o',
        'compact',
        '--log-format',
        'json',
        '--log-level',
        'debug',
      ]),
      await cli('merge-only [text logs]', ['pipeline', '--dry-run', '--merge-only', '--log-format', 'text']),
    ]
    const githubRun = await cli('plan -o github [text logs]', [
      'pipeline',
      '--dry-run',
      '-o',
      'github',
      '--log-format',
      'text',
    ])

    // Then the secret with the bad name failed alone (exit 3), and its name is shown escaped
    expect(runs.map((run) => run.code)).toEqual([3, 3, 0])
    expect(runs[0]?.stdout).toContain(
      '\\u001b]0;pwn\\u0007\\u009b31m\\r\\n::error::forged\\u0023#[set-output name=pwnkey;]k\\u202e\\u200b',
    )
    // And no line anywhere holds a raw control character, a command or ##[, nor the value
    expect([...runs.flatMap((run) => humanProblems(run)), ...humanProblems(githubRun, false)]).toEqual([])
    expect(githubProblems('github stdout', githubRun.stdout, ['VALUE-MARKER'])).toEqual([])
    expect(
      leaks('all output', [...runs, githubRun].map((run) => run.stdout + run.stderr).join('\n'), ['VALUE-MARKER']),
    ).toEqual([])
    // And the step summary and outputs are safe too
    const summary = await readFile(github.summary, 'utf8')
    expect(summary).toContain('\\\\u001b')
    expect(lineProblems('step summary', summary)).toEqual([])
    expect(await readFile(github.output, 'utf8')).toMatch(/^(?:[a-z_-]+=(?:\d+|true|false)\n)+$/)
  })

  it('-o json and --json carry the exact strings, and nothing but the JSON is on stdout', async () => {
    // When the plan is printed as JSON both ways, with values, and debug text logs on stderr
    const outputJson = await cli('plan -o json', [
      'pipeline',
      '--dry-run',
      '-o',
      'json',
      '--show-values',
      '--log-format',
      'text',
      '--log-level',
      'debug',
    ])
    const flagJson = await cli('plan --json', [
      'pipeline',
      '--dry-run',
      '--json',
      '--show-values',
      '--log-format',
      'text',
      '--log-level',
      'debug',
    ])

    for (const run of [outputJson, flagJson]) {
      // Then stdout is one JSON document (JSON.parse fails on anything else) with the names, keys and value exact
      const parsed = JSON.parse(run.stdout) as {
        targets: Array<{changes: Array<{name: string; keys_added: string[]; after?: Record<string, unknown>}>}>
      }
      const changes = parsed.targets[0]?.changes ?? []
      expect(changes.map((c) => c.name).sort()).toEqual([`app/${BAD_NAME}`, 'app/db'])
      const db = changes.find((c) => c.name === 'app/db')
      expect(db?.keys_added).toContain(HOSTILE)
      expect(db?.after?.[HOSTILE]).toBe(VALUE)
      // And the JSON text holds no raw C1 or bidi character and no ##[, while stderr holds only escaped log lines
      expect([
        ...lineProblems(`${run.label} stdout`, run.stdout),
        ...lineProblems(`${run.label} stderr`, run.stderr),
      ]).toEqual([])
    }
  })

  it('an error naming the hostile key: text summary, --merge-only, -o github, --json and text logs', async () => {
    // Given Vault failing every read, so the source fails with an error naming the key it was reading
    stack.controls.injectFault({service: 'vault', operation: 'read', kind: '5xx', count: 1000})
    try {
      const text = await cli('failing plan -o text [text logs]', [
        'pipeline',
        '--dry-run',
        '-o',
        'text',
        '--log-format',
        'text',
      ])
      const mergeOnly = await cli('failing --merge-only [text logs]', [
        'pipeline',
        '--dry-run',
        '--merge-only',
        '--log-format',
        'text',
      ])
      const githubRun = await cli('failing -o github [json logs]', [
        'pipeline',
        '--dry-run',
        '-o',
        'github',
        '--log-format',
        'json',
      ])
      const json = await cli('failing --json', ['pipeline', '--dry-run', '--json', '--log-format', 'text'])

      // Then every run failed, saying why in escaped form
      expect([text.code, mergeOnly.code, githubRun.code, json.code]).toEqual([1, 1, 1, 1])
      expect(`${text.stdout}${mergeOnly.stdout}${githubRun.stdout}`).toMatch(/vault read secret\/base\/(db|bad)/)
      expect([
        ...humanProblems(text),
        ...humanProblems(mergeOnly),
        ...humanProblems(githubRun, false),
        ...lineProblems('--json stdout', json.stdout),
        ...lineProblems('--json stderr', json.stderr),
      ]).toEqual([])
      expect(githubProblems('github stdout', githubRun.stdout, [])).toEqual([])
      JSON.parse(json.stdout)
    } finally {
      stack.controls.clear()
    }
  })

  it('the error printer at the CLI boundary: a usage error naming a hostile target, as text and as --json', async () => {
    // When a user (or a workflow interpolating untrusted input) names a hostile target
    const text = await cli('unknown target', ['pipeline', '--dry-run', '--targets', HOSTILE])
    const json = await cli('unknown target --json', ['pipeline', '--dry-run', '--targets', HOSTILE, '--json'])

    // Then it is a usage error, printed escaped on one line, and exact in the JSON error object
    expect([text.code, json.code]).toEqual([2, 2])
    expect(text.stderr).toMatch(/^Error: .*\\u001b\]0;pwn/m)
    expect(humanProblems(text)).toEqual([])
    const parsed = JSON.parse(json.stdout) as {error: {message: string}}
    expect(parsed.error.message).toContain(HOSTILE)
    expect(lineProblems('--json error', json.stdout)).toEqual([])
  })

  it('discover: an account named by an attacker is shown escaped', async () => {
    // When discovery finds the account whose name is hostile
    const run = await cli('discover', ['discover', '--no-cache', '--log-format', 'text'], discoveryConfig)

    // Then
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('333333333333 k\\u001b]0;pwn')
    expect(humanProblems(run)).toEqual([])
  })
  it('applying, version list and show, then an update shown with --show-values inside the stop-commands fence', async () => {
    // When the plan is applied (the bad name fails alone) and the history is read back
    const applied = await cli('apply -o text [text logs]', ['pipeline', '-o', 'text', '--log-format', 'text'])
    const list = await cli('version list', ['version', 'list', '--target', 'app'])
    const show = await cli('version show', ['version', 'show', '--target', 'app', '--version', '1'])
    const shown = await cli('version show --show-values', [
      'version',
      'show',
      '--target',
      'app',
      '--version',
      '1',
      '--show-values',
    ])

    // Then the summary and the history show the names escaped, and values only with --show-values
    expect([applied.code, list.code, show.code, shown.code]).toEqual([3, 0, 0, 0])
    expect([applied, list, show, shown].flatMap((run) => humanProblems(run))).toEqual([])
    expect(applied.stdout).toContain('target app (111111111111 / us-east-1) — applied')
    expect(show.stdout).toContain(
      '    k\\u001b]0;pwn\\u0007\\u009b31m\\r\\n::error::forged\\u0023#[set-output name=pwnkey;]k\\u202e\\u200b: ***',
    )
    expect(leaks('version show', show.stdout, ['VALUE-MARKER'])).toEqual([])
    expect(shown.stdout).toContain('VALUE-MARKER-\\u001b[2J\\n::add-mask::x\\u0023#[add-mask]y')

    // When the hostile value changes in Vault and the plan is printed for GitHub with values
    stack.vault.putSecret('secret/', 'base/db', {user: 'app', [HOSTILE]: `${VALUE}-2`})
    const plan = await cli('update -o github --show-values', [
      'pipeline',
      '--dry-run',
      '-o',
      'github',
      '--show-values',
      '--log-format',
      'json',
    ])

    // Then both values are there, escaped, and only between stop-commands and its resume line
    expect(plan.code).toBe(3)
    expect(githubProblems('github stdout', plan.stdout, ['VALUE-MARKER'])).toEqual([])
    expect(humanProblems(plan, false)).toEqual([])
    expect(plan.stdout).toContain(
      '"VALUE-MARKER-\\u001b[2J\\n::add-mask::x\\u0023#[add-mask]y" -> "VALUE-MARKER-\\u001b[2J\\n::add-mask::x\\u0023#[add-mask]y-2"',
    )
  })
})
