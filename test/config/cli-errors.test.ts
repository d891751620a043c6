import {writeFile} from 'node:fs/promises'
import {describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'

// Given a config with one mistake, when `secretsync validate` runs, then it exits 2, contacts nothing and names
// the file, line, key path and what was expected.

const base = `vault:
  address: http://127.0.0.1:8200
  auth:
    method: token
    token: root
vault_sources:
  - name: base
    mount: secret/base/
  - name: prod
    mount: secret/prod/
aws:
  region: us-east-1
targets:
  - name: a
    account_id: "111111111111"
    imports: [base, prod]
  - name: b
    imports: [a]
`

interface BadCase {
  name: string
  yaml: string
  env?: Record<string, string>
  /** Fragments the error must contain; `@N` stands for `<file>:N:`. */
  expect: string[]
}

const replace = (from: string, to: string): string => {
  if (!base.includes(from)) throw new Error(`fixture does not contain ${from}`)
  return base.replace(from, to)
}

const cases: BadCase[] = [
  {
    name: 'unknown top-level key',
    yaml: `${base}targt: []\n`,
    expect: ['@19', 'targt: unknown key (did you mean "targets"?)'],
  },
  {
    name: 'unknown nested key',
    yaml: replace('  address:', '  adress:'),
    expect: ['@2', 'vault.adress: unknown key (did you mean "address"?)', 'vault.address: is required'],
  },
  {
    name: 'wrong type',
    yaml: `${base}sync:\n  concurrency: many\n`,
    expect: ['@20', 'sync.concurrency: expected a whole number, got a string'],
  },
  {
    name: 'missing required target name',
    yaml: replace('  - name: b\n', '  - region: us-east-1\n'),
    expect: ['targets[1].name: is required'],
  },
  {
    name: 'bad duration',
    yaml: `${base}retry:\n  base_delay: 5 s\n`,
    expect: ['@20', 'retry.base_delay: expected a duration like 500ms, 30s, 10m or 1h, got "5 s"'],
  },
  {
    name: 'unset variable',
    yaml: replace('http://127.0.0.1:8200', '${SECRETSYNC_TEST_UNSET_ADDR}'),
    expect: ['@2', 'vault.address: environment variable SECRETSYNC_TEST_UNSET_ADDR is not set'],
  },
  {
    name: 'bad account id',
    yaml: replace('"111111111111"', '"12345"'),
    expect: ['@15', 'targets[0].account_id: expected a 12-digit AWS account id'],
  },
  {
    name: 'unquoted account id',
    yaml: replace('"111111111111"', '011111111111'),
    expect: ['@15', 'in quotes', 'got a number'],
  },
  {
    name: 'bad role ARN',
    yaml: replace('  - name: b\n', '  - name: b\n    role_arn: arn:aws:iam::123:role/x\n'),
    expect: ['@18', 'targets[1].role_arn: expected an IAM role ARN like arn:aws:iam::123456789012:role/SecretSync'],
  },
  {name: 'duplicate target', yaml: replace('  - name: b\n', '  - name: a\n'), expect: ['@17', 'duplicate name "a"']},
  {
    name: 'target named like a source',
    yaml: replace('  - name: b\n', '  - name: prod\n'),
    expect: ['duplicate name "prod": a vault source already has it'],
  },
  {
    name: 'unknown import',
    yaml: replace('imports: [base, prod]', 'imports: [bse, prod]'),
    expect: ['@16', 'targets[0].imports[0]: unknown import "bse"', 'did you mean "base"?'],
  },
  {name: 'cycle', yaml: replace('imports: [base, prod]', 'imports: [base, b]'), expect: ['import cycle: a -> b -> a']},
  {
    name: 'self-import',
    yaml: replace('imports: [a]', 'imports: [b]'),
    expect: ['@18', 'targets[1].imports[0]: target "b" imports itself'],
  },
  {
    name: 'import listed twice',
    yaml: replace('imports: [base, prod]', 'imports: [base, base]'),
    expect: ['targets[0].imports[1]: "base" is imported twice'],
  },
  {
    name: 'bad wildcard',
    yaml: `${base}discovery:\n  - name: d\n    type: aws_organizations\n    filters:\n      - tag: Env\n        values: ["prod[1]"]\n`,
    expect: ['@24', 'discovery[0].filters[0]', 'only * and ? as wildcards'],
  },
  {
    name: 'bad region',
    yaml: replace('  region: us-east-1', '  region: us-east'),
    expect: ['@12', 'aws.region: expected an AWS region such as us-east-1'],
  },
  {
    name: 'bad enum with suggestion',
    yaml: `${base}merge:\n  lists: apend\n`,
    expect: [
      '@20',
      'merge.lists: expected one of "append", "append_unique", "replace"; got "apend" (did you mean "append"?)',
    ],
  },
  {
    name: 'approle without secret_id',
    yaml: replace('    method: token\n    token: root\n', '    method: approle\n    role_id: r\n'),
    expect: ['vault.auth.secret_id: required for auth method approle'],
  },
  {
    name: 'key of another auth method',
    yaml: replace('    token: root\n', '    token: root\n    role_id: r\n'),
    expect: ['vault.auth.role_id: does not apply to auth method token'],
  },
  {
    name: 'recovery window out of range',
    yaml: `${base}sync:\n  recovery_window_days: 5\n`,
    expect: ['@20', 'sync.recovery_window_days: must be at least 7'],
  },
  {
    name: 'bad secret prefix',
    yaml: replace('  - name: b\n', '  - name: b\n    secret_prefix: "app/$x"\n'),
    expect: ['targets[1].secret_prefix: may use only A-Z a-z 0-9 / _ + = . @ -'],
  },
  {
    name: 'bad bucket name',
    yaml: `${base}merge_store:\n  bucket: My_Bucket\n`,
    expect: ['@20', 'merge_store.bucket: expected an S3 bucket name'],
  },
  {name: 'YAML syntax error', yaml: `${base}  - name: [\n`, expect: ['YAML syntax']},
  {name: 'duplicate YAML key', yaml: `${base}aws:\n  region: us-west-2\n`, expect: ['YAML syntax', 'unique']},
  {
    name: 'sources without vault',
    yaml: base.replace(/^vault:\n(?: {2}.*\n)+/, ''),
    expect: ['vault: is required when vault_sources are configured'],
  },
  {
    name: 'duplicate source name',
    yaml: replace('  - name: prod\n', '  - name: base\n'),
    expect: ['@9', 'duplicate source name "base"'],
  },
  {
    name: 'identity center without selector',
    yaml: `${base}discovery:\n  - name: sso\n    type: aws_identity_center\n`,
    expect: ['discovery[0].type: aws_identity_center needs permission_set or group'],
  },
  {
    name: 'bad OU id',
    yaml: `${base}discovery:\n  - name: d\n    type: aws_organizations\n    filters:\n      - ou: prod\n`,
    expect: ['@23', 'discovery[0].filters[0].ou: expected an OU id like ou-ab12-cd34ef56'],
  },
  {
    name: 'base_delay over max_delay',
    yaml: `${base}retry:\n  base_delay: 30s\n  max_delay: 1s\n`,
    expect: ['retry.base_delay: base_delay must not exceed max_delay'],
  },
  {
    name: 'metrics path',
    yaml: `${base}metrics:\n  path: metrics\n`,
    expect: ['@20', 'metrics.path: must start with "/"'],
  },
  {
    name: 'target without region',
    yaml: replace('aws:\n  region: us-east-1\n', 'aws:\n  external_id: ""\n'),
    expect: ['targets[0].region: is required when aws.region is not set'],
  },
  {
    name: 'unsafe mount',
    yaml: replace('mount: secret/prod/', 'mount: secret/../x'),
    expect: ['@10', 'vault_sources[1].mount: must be a Vault path without ".."'],
  },
  {
    name: 'target named ..',
    yaml: replace('  - name: b\n', '  - name: ".."\n'),
    expect: ['@17', 'targets[1].name: target names must not be "." or ".."'],
  },
  {
    name: 'target named .',
    yaml: replace('  - name: b\n', '  - name: .\n'),
    expect: ['@17', 'targets[1].name: target names must not be "." or ".."'],
  },
  {
    name: 'merge_store.prefix ../other/',
    yaml: `${base}merge_store:\n  bucket: store\n  prefix: ../other/\n`,
    expect: ['@21', 'merge_store.prefix: must not have a "." or ".." segment'],
  },
  {
    name: 'merge_store.prefix a/../../b/',
    yaml: `${base}merge_store: {bucket: store, prefix: a/../../b/}\n`,
    expect: ['@19', 'merge_store.prefix: must not have a "." or ".." segment'],
  },
  {
    name: 'merge_store.prefix a//b',
    yaml: `${base}merge_store: {bucket: store, prefix: a//b}\n`,
    expect: ['@19', 'merge_store.prefix: must not have an empty segment'],
  },
  {
    name: 'secret_prefix a/../b/',
    yaml: replace('  - name: b\n', '  - name: b\n    secret_prefix: a/../b/\n'),
    expect: ['@18', 'targets[1].secret_prefix: must not have a "." or ".." segment'],
  },
  {
    name: 'secret_prefix ../',
    yaml: replace('  - name: b\n', '  - name: b\n    secret_prefix: ../\n'),
    expect: ['@18', 'targets[1].secret_prefix: must not have a "." or ".." segment'],
  },
  {
    name: 'discovery secret_prefix ./x/',
    yaml: `${base}discovery:\n  - name: d\n    type: aws_organizations\n    target: {secret_prefix: ./x/}\n`,
    expect: ['@22', 'discovery[0].target.secret_prefix: must not have a "." or ".." segment'],
  },
  {
    name: 'raw control character',
    yaml: replace('  - name: b\n', '  - name: b\n    tags: {t: "a\u001b[31mb"}\n'),
    expect: ['@18', 'control character U+001B is not allowed'],
  },
  {
    name: 'alias bomb',
    yaml: `${base}x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${Array.from({length: 8}, (_, i) => `x${i + 1}: &x${i + 1} [${Array(9).fill(`*x${i}`).join(', ')}]`).join('\n')}\n`,
    expect: ['secretsync.yaml: uses aliases too often'],
  },
  {
    name: 'bad target type',
    yaml: replace('  - name: b\n', '  - name: b\n    type: aws_ssm\n'),
    expect: ['@18', 'targets[1].type: expected one of "aws_secretsmanager"; got "aws_ssm"'],
  },
]

describe('secretsync validate on a bad config', () => {
  it.each(cases)('$name: exit 2 with a precise message', async ({yaml, env, expect: fragments}) => {
    const file = await writeTempConfig(yaml)
    const {code, stdout, stderr} = await runCli(['validate', '-c', file], {env})
    expect(code).toBe(2)
    expect(stdout).toBe('')
    for (const fragment of fragments) {
      expect(stderr).toContain(fragment.startsWith('@') ? `${file}:${fragment.slice(1)}:` : fragment)
    }
  })

  it('a missing config file: exit 2 naming the file and the flag', async () => {
    // A real process: exit 2 as the shell sees it.
    const {code, stderr} = await runCli(['validate', '-c', '/nonexistent/secretsync.yaml'], {subprocess: true})
    expect(code).toBe(2)
    expect(stderr).toContain('/nonexistent/secretsync.yaml: cannot read config: file not found')
    expect(stderr).toContain('-c/--config')
  })

  it('--json: the error is one JSON object on stdout and the exit code is still 2', async () => {
    const file = await writeTempConfig(replace('imports: [base, prod]', 'imports: [base, b]'))
    const {code, stdout} = await runCli(['validate', '-c', file, '--json'])
    expect(code).toBe(2)
    const parsed = JSON.parse(stdout) as {error: {code: string; message: string; exit_code: number}}
    expect(parsed.error.code).toBe('CONFIG_INVALID')
    expect(parsed.error.exit_code).toBe(2)
    expect(parsed.error.message).toContain('a -> b -> a')
  })

  it('a value in an unknown key is never echoed (it may be a secret)', async () => {
    const file = await writeTempConfig(
      replace('    token: root\n', '    token: root\n    passwd: hunter2-very-secret\n'),
    )
    const {code, stderr} = await runCli(['validate', '-c', file])
    expect(code).toBe(2)
    expect(stderr).toContain('vault.auth.passwd: unknown key')
    expect(stderr).not.toContain('hunter2-very-secret')
  })

  it('bytes that are not UTF-8: exit 2 naming the file and line, nothing replaced by U+FFFD', async () => {
    const file = await writeTempConfig('')
    // Line 19 is `metrics: {job: caf\xe9}`: Latin-1, not UTF-8.
    await writeFile(
      file,
      Buffer.concat([Buffer.from(`${base}metrics: {job: caf`), Buffer.from([0xe9]), Buffer.from('}\n')]),
    )
    const {code, stdout, stderr} = await runCli(['validate', '-c', file])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toContain(`${file}:19: is not UTF-8 text`)
  })

  // Token-like values full of YAML metacharacters, unquoted and quoted: accepted as exact strings where a
  // string belongs, and where they are refused the error names file, line, key and variable, never the value.
  const tokens = [
    '{hvs.CAES-secret-1',
    '*hvs.CAES-secret-2',
    '&hvs.CAES-secret-3 x',
    '!hvs.CAES-secret-4',
    '"hvs.CAES-secret-5',
    '[hvs.CAES, secret-6]',
    'hvs: CAES-secret-7',
    '|hvs.CAES-secret-8',
  ]
  it.concurrent.each(tokens)('VAULT_TOKEN=%j is used exactly and never printed', async (token) => {
    const valid = await writeTempConfig(
      replace('    token: root\n', '    token: ${VAULT_TOKEN}\n').replace(
        '  - name: b\n',
        '  - name: b\n    tags: {quoted: "${VAULT_TOKEN}", plain: ${VAULT_TOKEN}}\n',
      ),
    )
    const accepted = await runCli(['validate', '-c', valid], {env: {VAULT_TOKEN: token}})
    expect(accepted.code, accepted.stderr).toBe(0)
    expect(accepted.stdout + accepted.stderr).not.toContain(token)

    const invalid = await writeTempConfig(`${base}logging:\n  level: \${VAULT_TOKEN}\n  format: "\${VAULT_TOKEN}"\n`)
    const refused = await runCli(['validate', '-c', invalid], {env: {VAULT_TOKEN: token}})
    expect(refused.code).toBe(2)
    expect(refused.stdout + refused.stderr).not.toContain(token)
    expect(refused.stderr).toContain(
      `${invalid}:20:10: logging.level: expected one of "error", "warn", "info", "debug"; got a string (the value of \${VAULT_TOKEN})`,
    )
    expect(refused.stderr).toContain(
      `${invalid}:21:11: logging.format: expected one of "json", "text"; got a string (the value of \${VAULT_TOKEN})`,
    )
  })

  it('a boolean flag variable that is not a boolean word is a usage error naming it, before anything is contacted', async () => {
    // Given a config whose Vault would refuse every connection (nothing listens on port 1)
    const file = await writeTempConfig(replace('http://127.0.0.1:8200', 'http://127.0.0.1:1'))
    // When SECRETSYNC_DRY_RUN says something that is neither yes nor no (oclif alone would read it as false: apply)
    for (const value of ['maybe', 'ON', 'ture']) {
      const {code, stderr} = await runCli(['pipeline', '-c', file], {env: {SECRETSYNC_DRY_RUN: value}})
      // Then it exits 2 naming the variable and the flag, never echoing the value, and reaches no Vault
      expect(code, stderr).toBe(2)
      expect(stderr).toContain('SECRETSYNC_DRY_RUN (for --dry-run) must be true or false')
      expect(stderr).not.toContain(value)
      expect(stderr).not.toMatch(/ECONNREFUSED|vault/i)
    }
    // And a boolean word is taken as it says: the run goes on (and fails to reach Vault: exit 1, not 2)
    const yes = await runCli(['pipeline', '-c', file, '--merge-only'], {env: {SECRETSYNC_DRY_RUN: 'YES'}})
    expect(yes.code, yes.stderr).toBe(1)
    const other = await runCli(['validate', '-c', file], {env: {SECRETSYNC_CHECK_ACCESS: 'enabled'}})
    expect(other.code).toBe(2)
    expect(other.stderr).toContain('SECRETSYNC_CHECK_ACCESS (for --check-access)')
  })

  it('an unknown flag is a usage error: exit 2', async () => {
    // A real process: oclif's own parse error on the way out of a real process.
    const {code, stderr} = await runCli(['validate', '--no-such-flag'], {subprocess: true})
    expect(code).toBe(2)
    expect(stderr).toContain('no-such-flag')
  })
})

describe('secretsync validate on a good config', () => {
  it('the complete example config validates: exit 0', async () => {
    // A real process: exit 0 as the shell sees it.
    const {code, stdout} = await runCli(['validate', '-c', 'examples/secretsync.yaml'], {subprocess: true})
    expect(code).toBe(0)
    expect(stdout).toContain('examples/secretsync.yaml: valid')
    expect(stdout).toContain('targets:   2 in 2 levels')
  })

  it('--json lists targets with their levels in topological order', async () => {
    const file = await writeTempConfig(base)
    const {code, stdout} = await runCli(['validate', '-c', file, '--json'])
    expect(code).toBe(0)
    const result = JSON.parse(stdout) as {
      valid: boolean
      levels: number
      targets: Array<{name: string; level: number; region: string}>
    }
    expect(result.valid).toBe(true)
    expect(result.levels).toBe(2)
    expect(result.targets).toMatchObject([
      {name: 'a', level: 0, region: 'us-east-1'},
      {name: 'b', level: 1, region: 'us-east-1'},
    ])
  })

  it('interpolates variables from the environment', async () => {
    const file = await writeTempConfig(
      replace('http://127.0.0.1:8200', '${TEST_VAULT_ADDR}').replace(
        'region: us-east-1',
        'region: ${TEST_REGION:-us-east-1}',
      ),
    )
    const {code, stdout} = await runCli(['validate', '-c', file, '--json'], {
      env: {TEST_VAULT_ADDR: 'https://vault.internal:8200', TEST_REGION: 'eu-west-3'},
    })
    expect(code).toBe(0)
    const result = JSON.parse(stdout) as {targets: Array<{name: string; region: string}>}
    expect(result.targets.map((target) => target.region)).toEqual(['eu-west-3', 'eu-west-3'])
    const unset = await runCli(['validate', '-c', file, '--json'], {
      env: {TEST_VAULT_ADDR: 'https://vault.internal:8200'},
    })
    expect((JSON.parse(unset.stdout) as typeof result).targets.map((target) => target.region)).toEqual([
      'us-east-1',
      'us-east-1',
    ])
  })

  it('SECRETSYNC_CONFIG names the file when -c is absent', async () => {
    const file = await writeTempConfig(base)
    const {code, stdout} = await runCli(['validate'], {env: {SECRETSYNC_CONFIG: file}})
    expect(code).toBe(0)
    expect(stdout).toContain(`${file}: valid`)
  })
})
