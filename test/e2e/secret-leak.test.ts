import {randomBytes} from 'node:crypto'
import {mkdtemp, readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {rootIdentity} from '../support/aws/credentials.js'
import {runCli, writeTempConfig, type CliResult} from '../support/cli.js'
import {freePort, scrapeWhile, startFakePushgateway} from '../support/metrics-probe.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Seeds unique markers as secret values, tokens and credentials, runs every command in every output and log format
// with debug logging (and without --show-values), and looks for the markers everywhere secretsync writes: stdout,
// stderr, the GitHub files, the metrics and the store's non-secret objects. The setup runs once; every test reads it.

const BUCKET = 'merge-store'
const APP_ACCOUNT = '111111111111'
const WORKLOAD_ACCOUNT = '333333333333'
const mark = (what: string): string => `LEAK-MARKER-${what}-${randomBytes(6).toString('hex')}`

const markers = {
  dbPassword: mark('db'),
  dbPasswordRotated: mark('db2'),
  apiKey: mark('api'),
  listItem: mark('list'),
  newToken: mark('new'),
  awsSecretAccessKey: mark('aws'),
  externalId: mark('extid'),
}

interface Run extends CliResult {
  label: string
  args: string[]
}

interface World {
  stack: TestStack
  runs: Run[]
  /** `--show-values` runs: the markers must be there, or the scan proves nothing. */
  controls: Run[]
  /** Markers by name; patterns catch what is issued during the run (Vault client tokens, STS session tokens). */
  secretMarkers: Record<string, string | RegExp>
  github: {summary: string; output: string}
  metrics: {scrapes: string[]; pushed: string[]}
  storeObjects: Array<{key: string; body: string}>
}

let world: World

/** Runs `tasks` at most `width` at a time, keeping their order in the result. */
async function inPool<T>(tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++
      results[index] = await (tasks[index] as () => Promise<T>)()
    }
  }
  await Promise.all(Array.from({length: width}, worker))
  return results
}

async function setUp(): Promise<World> {
  const policies = [
    {path: 'secret/metadata/*', capabilities: ['list' as const, 'read' as const]},
    {path: 'secret/data/*', capabilities: ['read' as const]},
  ]
  const stack = await startTestStack({
    vault: {
      secrets: {
        'secret/base/db': {user: 'app', password: markers.dbPassword},
        'secret/base/api': {auth: {key: markers.apiKey, header: 'X-Api-Key'}},
        'secret/base/nested/cfg': {hosts: ['a.example', markers.listItem]},
      },
      approles: {secretsync: {policies}},
    },
    aws: {
      buckets: [BUCKET],
      organization: {
        accounts: [
          {id: WORKLOAD_ACCOUNT, name: 'workload-a', tags: {Environment: 'production'}},
          {id: '444444444444', name: 'sandbox-b', tags: {Environment: 'development'}},
        ],
      },
    },
  })
  const approle = stack.credentials.approles.secretsync as {roleId: string; secretId: string}
  const vaultToken = stack.vault.createToken({policies})
  // Base credentials whose secret key is a marker; every role secretsync assumes demands the marker ExternalId.
  stack.aws.credentials.register(
    rootIdentity('AKIALEAKTESTKEY00001', markers.awsSecretAccessKey, stack.aws.base.accountId),
  )
  for (const role of [
    `arn:aws:iam::${APP_ACCOUNT}:role/SecretSync`,
    `arn:aws:iam::${WORKLOAD_ACCOUNT}:role/SecretSync`,
    `arn:aws:iam::${stack.aws.base.accountId}:role/OrgDiscovery`,
  ]) {
    stack.aws.sts.requireExternalId(role, markers.externalId)
  }
  const secretMarkers = {
    ...markers,
    approleSecretId: approle.secretId,
    vaultToken,
    // The test Vault issues `hvs.` + 24 base62 service tokens (AppRole logins), the test STS `FwoGZXIvYXdzE…` sessions.
    anyVaultToken: /hvs\.[A-Za-z0-9]{24}/,
    anySessionToken: /FwoGZXIvYXdzE/,
  }

  const configText = (auth: string) => `vault:
  address: \${VAULT_ADDR}
  auth: ${auth}
vault_sources:
  - {name: base, mount: secret/base/}
merge_store:
  bucket: ${BUCKET}
  endpoint: \${AWS_ENDPOINT_URL}
aws:
  region: us-east-1
  endpoint: \${AWS_ENDPOINT_URL}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
  external_id: \${SECRETSYNC_EXTERNAL_ID}
targets:
  - {name: app, account_id: "${APP_ACCOUNT}", imports: [base], secret_prefix: app/}
discovery:
  - name: workloads
    type: aws_organizations
    role_arn: arn:aws:iam::${stack.aws.base.accountId}:role/OrgDiscovery
    filters: [{tag: Environment, values: [production]}]
    target: {region: us-east-1, imports: [base], secret_prefix: wl/}
retry: {max_attempts: 2, base_delay: 10ms}
`
  const approleConfig = await writeTempConfig(
    configText('{method: approle, role_id: ${VAULT_ROLE_ID}, secret_id: ${VAULT_SECRET_ID}}'),
  )
  const tokenConfig = await writeTempConfig(configText('{method: token}'))
  const githubDir = await mkdtemp(join(tmpdir(), 'secretsync-leak-'))
  const github = {summary: join(githubDir, 'step-summary.md'), output: join(githubDir, 'github-output.txt')}
  const env = {
    ...stack.env,
    VAULT_TOKEN: vaultToken,
    VAULT_ROLE_ID: approle.roleId,
    VAULT_SECRET_ID: approle.secretId,
    AWS_ACCESS_KEY_ID: 'AKIALEAKTESTKEY00001',
    AWS_SECRET_ACCESS_KEY: markers.awsSecretAccessKey,
    SECRETSYNC_EXTERNAL_ID: markers.externalId,
    GITHUB_STEP_SUMMARY: github.summary,
    GITHUB_OUTPUT: github.output,
  }
  const run = async (label: string, args: string[], config = approleConfig): Promise<Run> => {
    const full = [...args, '-c', config, '--log-level', 'debug']
    // Real processes: the scan is of what reaches the real stdout and stderr, whatever writes there.
    return {label, args: full, ...(await runCli(full, {env, timeoutMs: 60_000, subprocess: true}))}
  }
  // One command line with JSON logs and one (the same, or a sibling) with text logs; each labelled by its arguments.
  const both = (args: string[], textLogArgs: string[] = args): Array<() => Promise<Run>> => [
    () => run(`${args.join(' ')} [json logs]`, [...args, '--log-format', 'json']),
    () => run(`${textLogArgs.join(' ')} [text logs]`, [...textLogArgs, '--log-format', 'text']),
  ]

  // 1. The first apply, scraped during the run (slow Secrets Manager keeps it busy) and pushed at its end.
  const gateway = await startFakePushgateway()
  const port = await freePort()
  stack.controls.setLatency({service: 'secretsmanager', ms: 200})
  const first = await scrapeWhile(
    `http://127.0.0.1:${port}/metrics`,
    run('pipeline apply -o json', [
      'pipeline',
      '-o',
      'json',
      '--log-format',
      'json',
      '--metrics-port',
      String(port),
      '--pushgateway',
      gateway.url,
    ]),
  )
  stack.controls.clear()
  await gateway.close()

  // 2. Vault moves on: a rotated password and a new secret, so plans show updates and creates.
  stack.vault.putSecret('secret/', 'base/db', {user: 'app', password: markers.dbPasswordRotated})
  stack.vault.putSecret('secret/', 'base/new', {token: markers.newToken})

  // 3. Every read-only command, in every output format, with both log formats.
  const readOnly = await inPool(
    [
      ...both(['validate'], ['validate', '--json']),
      ...both(['graph'], ['graph', '--json']),
      // Each output format once, the two log formats alternating over them.
      ...both(['pipeline', '--dry-run', '-o', 'json'], ['pipeline', '--dry-run', '-o', 'text']),
      ...both(['pipeline', '--dry-run', '-o', 'github'], ['pipeline', '--dry-run', '-o', 'compact']),
      ...both(['version', 'list', '--target', 'app'], ['version', 'list', '--path', 'app/db', '--json']),
      ...both(
        ['version', 'show', '--target', 'app', '--version', '1'],
        ['version', 'show', '--target', 'app', '--version', '1', '--path', 'db', '--json'],
      ),
      ...both(
        ['version', 'rollback', '--target', 'app', '--version', '1', '--dry-run', '-o', 'text'],
        ['version', 'rollback', '--path', 'app/db', '--version', '1', '--dry-run', '-o', 'json'],
      ),
      ...both(['discover', '--no-cache'], ['discover', '--json']),
    ],
    3,
  )
  const controls = await inPool(
    [
      () =>
        run('control: pipeline --dry-run --show-values -o json', [
          'pipeline',
          '--dry-run',
          '--show-values',
          '-o',
          'json',
        ]),
      () =>
        run('control: version show --show-values', [
          'version',
          'show',
          '--target',
          'app',
          '--version',
          '1',
          '--show-values',
        ]),
    ],
    2,
  )

  // 4. Applying with --diff, then failing runs so the error paths run: a Secrets Manager 5xx storm in one account,
  //    and Vault failing every read (with token auth).
  const applied = await run('pipeline apply --diff -o text [text logs]', [
    'pipeline',
    '--diff',
    '-o',
    'text',
    '--log-format',
    'text',
  ])
  stack.controls.injectFault({service: 'secretsmanager', account: APP_ACCOUNT, kind: '5xx', count: 1000})
  stack.vault.putSecret('secret/', 'base/api', {auth: {key: `${markers.apiKey}-v2`, header: 'X-Api-Key'}})
  const smStorm = await run('pipeline with a Secrets Manager 5xx storm -o compact [json logs]', [
    'pipeline',
    '-o',
    'compact',
    '--log-format',
    'json',
  ])
  stack.controls.clear()
  stack.controls.injectFault({service: 'vault', operation: 'read', kind: '5xx', count: 1000})
  const vaultDown = await run(
    'pipeline with Vault reads failing -o github [text logs]',
    ['pipeline', '-o', 'github', '--log-format', 'text'],
    tokenConfig,
  )
  stack.controls.clear()

  const storeObjects = stack.aws.s3
    .listKeys(BUCKET)
    .filter((key) => !/\/v\d+\.json$/.test(key))
    .map((key) => ({key, body: stack.aws.s3.getObject(BUCKET, key)?.body.toString('utf8') ?? ''}))
  const readOrEmpty = (file: string) => readFile(file, 'utf8').catch(() => '')
  return {
    stack,
    runs: [first.result, ...readOnly, applied, smStorm, vaultDown],
    controls,
    secretMarkers,
    github: {summary: await readOrEmpty(github.summary), output: await readOrEmpty(github.output)},
    metrics: {scrapes: first.scrapes, pushed: gateway.pushes.map((push) => push.body)},
    storeObjects,
  }
}

/** `where: marker name` for every marker found in the texts. */
function leaksIn(texts: Array<{where: string; text: string}>): string[] {
  const found: string[] = []
  for (const {where, text} of texts) {
    for (const [name, marker] of Object.entries(world.secretMarkers)) {
      if (typeof marker === 'string' ? text.includes(marker) : marker.test(text)) found.push(`${where}: ${name}`)
    }
  }
  return found
}

const runNamed = (label: string): Run => {
  const found = world.runs.find((run) => run.label === label)
  if (!found) throw new Error(`no run ${label}`)
  return found
}

beforeAll(async () => {
  world = await setUp()
}, 240_000)

afterAll(async () => {
  await world?.stack.close()
})

describe('no secret value, token or credential leaves secretsync', () => {
  it('every command ran its whole path, so an empty scan means something', () => {
    const {stack} = world
    const exits = Object.fromEntries(world.runs.map((run) => [run.label, run.code]))
    const expected: Record<string, number> = Object.fromEntries(world.runs.map((run) => [run.label, 0]))
    expected['pipeline with a Secrets Manager 5xx storm -o compact [json logs]'] = 3
    expected['pipeline with Vault reads failing -o github [text logs]'] = 1
    expect(exits).toEqual(expected)
    expect(world.runs).toHaveLength(20)

    // The markers were really used: AppRole login, the marker ExternalId and the marker access key.
    expect(stack.controls.count({service: 'vault', operation: 'login-approle'})).toBeGreaterThan(0)
    const assumed = stack.aws.sts.assumeRoleCalls()
    expect(assumed.filter((call) => call.outcome === 'issued').length).toBeGreaterThan(0)
    expect(assumed.every((call) => call.externalId === markers.externalId)).toBe(true)
    expect(runNamed('discover --no-cache [json logs]').stdout).toContain('workload-a')

    // Plans show the rotated password and the new secret; the failing runs went through their error paths.
    const plan = JSON.parse(runNamed('pipeline --dry-run -o json [json logs]').stdout) as {
      targets: Array<{name: string; changes: Array<{action: string; name: string; keys_changed: string[]}>}>
    }
    expect(plan.targets.find((t) => t.name === 'app')?.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({action: 'update', name: 'app/db', keys_changed: ['password']}),
        expect.objectContaining({action: 'create', name: 'app/new'}),
      ]),
    )
    expect(runNamed('pipeline with a Secrets Manager 5xx storm -o compact [json logs]').stdout).toMatch(/app/)
    expect(runNamed('pipeline with Vault reads failing -o github [text logs]').stderr).toMatch(/source failed/)
    expect(world.github.summary.length).toBeGreaterThan(0)
    expect(world.github.output).toMatch(/has_changes/)
    expect(world.metrics.scrapes.length).toBeGreaterThan(0)
    expect(world.metrics.pushed).toHaveLength(1)
    expect(world.storeObjects.map((object) => object.key)).toEqual(
      expect.arrayContaining([
        'app/latest.json',
        `app/applied/${APP_ACCOUNT}-us-east-1.json`,
        'discovery/workloads.json',
      ]),
    )
  })

  it('stdout and stderr of every command carry no marker', () => {
    const texts = world.runs.flatMap((run) => [
      {where: `${run.label} stdout`, text: run.stdout},
      {where: `${run.label} stderr`, text: run.stderr},
    ])
    expect(leaksIn(texts)).toEqual([])
  })

  it('the GitHub step summary and outputs carry no marker', () => {
    expect(
      leaksIn([
        {where: 'GITHUB_STEP_SUMMARY', text: world.github.summary},
        {where: 'GITHUB_OUTPUT', text: world.github.output},
      ]),
    ).toEqual([])
  })

  it('the /metrics scrapes and the pushed metrics carry no marker', () => {
    expect(
      leaksIn([
        ...world.metrics.scrapes.map((text, i) => ({where: `/metrics scrape ${i}`, text})),
        ...world.metrics.pushed.map((text) => ({where: 'Pushgateway payload', text})),
      ]),
    ).toEqual([])
  })

  it("the merge store's non-secret objects (latest, applied records, locks, discovery cache) carry no marker", () => {
    expect(leaksIn(world.storeObjects.map(({key, body}) => ({where: key, text: body})))).toEqual([])
  })

  it('with --show-values the values do appear: the scan finds what is there', () => {
    const [plan, show] = world.controls as [Run, Run]
    expect(plan.code, plan.stderr).toBe(0)
    expect(leaksIn([{where: 'plan', text: plan.stdout}])).toEqual([
      'plan: dbPassword',
      'plan: dbPasswordRotated',
      'plan: newToken',
    ])
    expect(show.code, show.stderr).toBe(0)
    expect(leaksIn([{where: 'show', text: show.stdout}])).toEqual([
      'show: dbPassword',
      'show: apiKey',
      'show: listItem',
    ])
  })
})
