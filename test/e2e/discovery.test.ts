import {afterEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {parseJsonOutput} from '../support/e2e.js'
import type {FixtureAccount, FixtureOu, StackFixture} from '../support/fixture.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Stories of discovery as a user meets it: `secretsync discover` and `secretsync pipeline` on a config whose targets
// come from AWS Organizations or IAM Identity Center, run as the built CLI against the in-process stack.

const BUCKET = 'merge-store'
const DISCOVERY_ROLE = 'arn:aws:iam::000000000000:role/OrgDiscovery'

/**
 * 36 member accounts over the root and three OUs (one nested two deep), with mixed statuses and `Environment`
 * tags. The block under test keeps ACTIVE accounts whose Environment matches `prod*`.
 */
interface ModelAccount extends FixtureAccount {
  /** The target name the `{{account_name}}` template gives it (sanitised). */
  target: string
}

function modelAccounts(): ModelAccount[] {
  const environments = ['production', 'prod-eu', 'staging']
  return Array.from({length: 36}, (_, i) => {
    const name = i === 0 ? 'Payments Prod' : `team-${i}`
    const tags = i % 9 === 4 ? undefined : {Environment: environments[i % 3] as string, Team: `t${i % 4}`}
    const status = i % 7 === 5 ? 'SUSPENDED' : i % 11 === 6 ? 'PENDING_CLOSURE' : undefined
    return {id: String(300_000_000_000 + i), name, tags, status, target: i === 0 ? 'Payments-Prod' : name}
  })
}

const isIncluded = (account: ModelAccount): boolean =>
  (account.status ?? 'ACTIVE') === 'ACTIVE' && /^prod/.test(account.tags?.Environment ?? '')

function organizationFixture(accounts: readonly ModelAccount[]): StackFixture {
  const plain = (slice: readonly ModelAccount[]): FixtureAccount[] =>
    slice.map(({target: _target, ...account}) => account)
  const ous: FixtureOu[] = [
    {
      name: 'Workloads',
      accounts: plain(accounts.slice(6, 14)),
      ous: [
        {
          name: 'Prod',
          accounts: plain(accounts.slice(14, 22)),
          ous: [{name: 'Deep', accounts: plain(accounts.slice(22, 30))}],
        },
      ],
    },
    {name: 'Sandbox', accounts: plain(accounts.slice(30))},
  ]
  return {
    vault: {secrets: {'secret/base/db': {user: 'app', password: 'pw-1'}, 'secret/base/api': {key: 'k-1'}}},
    aws: {buckets: [BUCKET], organization: {accounts: plain(accounts.slice(0, 6)), ous}},
  }
}

interface ConfigParts {
  mergeStore?: boolean
  targets?: string
  discovery?: string
}

const organizationsBlock = `  - name: workloads
    type: aws_organizations
    role_arn: ${DISCOVERY_ROLE}
    filters:
      - {tag: Environment, values: ["prod*"]}
    target: {name: "{{account_name}}", imports: [base]}
`

function writeConfig({
  mergeStore = true,
  targets = '',
  discovery = organizationsBlock,
}: ConfigParts = {}): Promise<string> {
  return writeTempConfig(`vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
vault_sources:
  - {name: base, mount: secret/base/}
${mergeStore ? `merge_store:\n  bucket: ${BUCKET}\n  endpoint: \${AWS_ENDPOINT_URL}\n` : ''}aws:
  region: us-east-1
  endpoint: \${AWS_ENDPOINT_URL}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
${targets ? `targets:\n${targets}` : ''}discovery:
${discovery}logging: {level: warn}
`)
}

interface PlanJson {
  dry_run: boolean
  summary: Record<string, number>
  targets: Array<{
    name: string
    account_id: string | null
    status: string
    error: string | null
    changes: Array<{action: string; name: string}>
  }>
}

interface DiscoverJson {
  report: {
    summary: Record<string, number>
    blocks: Array<{
      name: string
      status: string
      cache: string | null
      accounts: Array<{
        account_id: string
        account_name: string
        status: string
        included: boolean
        reasons: string[]
        target: string | null
      }>
    }>
  }
  targets: Array<{name: string; discovered: boolean; account_id: string | null; imports: string[]}>
}

let stack: TestStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

/** Runs `secretsync <command> -c <config> <args>`; `command` may be two words (`version list`). */
async function cli(config: string, command: string, ...args: string[]) {
  if (!stack) throw new Error('start the stack first')
  return runCli([...command.split(' '), '-c', config, ...args], {env: stack.env})
}

const parsed = <T>(result: {code: number; stdout: string; stderr: string}): T => parseJsonOutput<T>(result)

const orgCalls = (): number => stack?.controls.count({service: 'organizations'}) ?? 0
const discoveryObjects = (): string[] => stack?.aws.s3.listKeys(BUCKET, 'discovery/') ?? []

describe('secretsync pipeline with only a discovery block', () => {
  it('plans one target per included account, named from the template, and writes no discovery cache on --dry-run', async () => {
    // Given an organization of 36 member accounts and a config with no static targets at all
    const accounts = modelAccounts()
    stack = await startTestStack(organizationFixture(accounts))
    const config = await writeConfig()
    const included = accounts.filter(isIncluded)
    expect(included.length).toBeGreaterThan(5)
    expect(included.length).toBeLessThan(accounts.length)

    // When the pipeline plans
    const result = await cli(config, 'pipeline', '--dry-run', '--json')
    const plan = parsed<PlanJson>(result)

    // Then every included account is a planned target creating the imported secrets in that account, and no other
    expect(result.code).toBe(0)
    expect(plan.dry_run).toBe(true)
    expect(plan.targets.map((t) => t.name).sort()).toEqual(included.map((a) => a.target).sort())
    for (const target of plan.targets) {
      const account = included.find((a) => a.target === target.name)
      expect(target).toMatchObject({status: 'planned', error: null, account_id: account?.id})
      expect(target.changes.map((c) => `${c.action} ${c.name}`).sort()).toEqual(['create api', 'create db'])
    }
    expect(plan.summary).toMatchObject({targets: included.length, failed_targets: 0, created: 2 * included.length})
    expect(plan.targets.map((t) => t.name)).toContain('Payments-Prod')

    // And nothing was written: not the snapshots, not the discovery cache, not a secret
    expect(stack.controls.count({service: 's3', operation: 'PutObject'})).toBe(0)
    expect(discoveryObjects()).toEqual([])
    expect(stack.controls.count({service: 'secretsmanager', operation: 'CreateSecret'})).toBe(0)
  })
})

describe('secretsync discover', () => {
  it('reports each account with its verdict and reasons, caches the result in the merge store, and --no-cache asks AWS again', async () => {
    const accounts = modelAccounts()
    stack = await startTestStack(organizationFixture(accounts))
    const config = await writeConfig()

    // When discovery runs for the first time (as JSON)
    const first = await cli(config, 'discover', '--json')
    const json = parsed<DiscoverJson>(first)

    // Then every member account is listed once with its verdict, and included ones name their target
    expect(first.code).toBe(0)
    const block = json.report.blocks[0]
    expect(block).toMatchObject({name: 'workloads', status: 'discovered', cache: 'miss'})
    for (const account of accounts) {
      const row = block?.accounts.find((a) => a.account_id === account.id)
      expect(row, account.id).toMatchObject({
        account_name: account.name,
        included: isIncluded(account),
        target: isIncluded(account) ? account.target : null,
      })
    }
    const reasonsOf = (i: number) => block?.accounts.find((a) => a.account_id === accounts[i]?.id)?.reasons
    expect(reasonsOf(0)).toEqual(['tag Environment=production matches prod*', 'status ACTIVE in [ACTIVE]'])
    expect(reasonsOf(2)).toContain('tag Environment=staging matches none of [prod*]')
    expect(reasonsOf(4)).toContain('tag Environment missing')
    expect(reasonsOf(5)).toContain('status SUSPENDED not in [ACTIVE]')
    // The management account sits in the organization too, untagged: excluded.
    expect(block?.accounts.find((a) => a.account_id === '000000000000')).toMatchObject({included: false})
    expect(json.report.summary).toMatchObject({
      accounts: accounts.length + 1,
      included: accounts.filter(isIncluded).length,
      failed_blocks: 0,
    })
    expect(
      json.targets
        .filter((t) => t.discovered)
        .map((t) => t.name)
        .sort(),
    ).toEqual(
      accounts
        .filter(isIncluded)
        .map((a) => a.target)
        .sort(),
    )
    expect(json.targets.find((t) => t.name === 'Payments-Prod')).toEqual({
      name: 'Payments-Prod',
      discovered: true,
      account_id: '300000000000',
      region: 'us-east-1',
      imports: ['base'],
    })
    expect(orgCalls()).toBeGreaterThan(0)
    expect(discoveryObjects()).toEqual(['discovery/workloads.json'])

    // When it runs again within cache_ttl (as text)
    stack.controls.resetCounters()
    const second = await cli(config, 'discover')

    // Then the merge store's cache answers it: zero Organizations calls, the same verdicts in words
    expect(second.code).toBe(0)
    expect(orgCalls()).toBe(0)
    expect(second.stdout).toContain('discovery workloads (aws_organizations) — cached (cache hit)')
    expect(second.stdout).toContain(
      '  + 300000000000 Payments Prod [ACTIVE] -> target Payments-Prod\n      tag Environment=production matches prod*\n',
    )
    expect(second.stdout).toContain(
      '  - 300000000002 team-2 [ACTIVE]\n      tag Environment=staging matches none of [prod*]\n',
    )
    expect(second.stdout).toContain('  - 300000000005 team-5 [SUSPENDED]\n')
    expect(second.stdout).toMatch(/targets after discovery: .*Payments-Prod\*/)

    // When --no-cache is given, Organizations is asked again
    const third = await cli(config, 'discover', '--no-cache', '--json')
    expect(third.code).toBe(0)
    expect(parsed<DiscoverJson>(third).report.blocks[0]).toMatchObject({status: 'discovered', cache: 'bypassed'})
    expect(orgCalls()).toBeGreaterThan(0)
  })

  it('finds accounts in IAM Identity Center by permission set', async () => {
    // Given three accounts provisioned with the SecretSync permission set, and others with another set only
    const accounts = modelAccounts()
    const fixture = organizationFixture(accounts)
    const provisioned = ['300000000001', '300000000007', '300000000031']
    fixture.aws = {
      ...fixture.aws,
      identity_center: {
        permission_sets: [
          {name: 'SecretSync', provisioned},
          {name: 'ReadOnly', provisioned: ['300000000002', '300000000003', '300000000007']},
        ],
      },
    }
    stack = await startTestStack(fixture)
    const config = await writeConfig({
      discovery: `  - name: sso
    type: aws_identity_center
    role_arn: ${DISCOVERY_ROLE}
    permission_set: SecretSync
    target: {name: "sso-{{account_id}}", imports: [base]}
`,
    })

    // When discovery runs, then the pipeline plans
    const discovered = await cli(config, 'discover', '--json')
    const plan = await cli(config, 'pipeline', '--dry-run', '--json')

    // Then exactly the provisioned accounts are found, with their names, and become planned targets
    expect(discovered.code).toBe(0)
    const block = parsed<DiscoverJson>(discovered).report.blocks[0]
    expect(block?.accounts.map((a) => [a.account_id, a.account_name, a.included])).toEqual([
      ['300000000001', 'team-1', true],
      ['300000000007', 'team-7', true],
      ['300000000031', 'team-31', true],
    ])
    expect(plan.code).toBe(0)
    expect(
      parsed<PlanJson>(plan)
        .targets.map((t) => [t.name, t.account_id, t.status])
        .sort(),
    ).toEqual(provisioned.map((id) => [`sso-${id}`, id, 'planned']))
  })
})

describe('discovered targets in the graph', () => {
  it('a static target may import a discovered one by name; an import nobody provides is a usage error naming it', async () => {
    const accounts = modelAccounts()
    stack = await startTestStack(organizationFixture(accounts))
    const aggregate = (imports: string) =>
      `  - name: aggregate\n    account_id: "111111111111"\n    imports: [${imports}]\n    secret_prefix: agg/\n    overrides: {region: all}\n`

    // Given a static target that imports the discovered target Payments-Prod
    const config = await writeConfig({targets: aggregate('Payments-Prod')})

    // When only that target is planned
    const result = await cli(config, 'pipeline', '--dry-run', '--json', '--targets', 'aggregate')
    const plan = parsed<PlanJson>(result)

    // Then the graph was resolved after discovery: the discovered dependency comes along, and its secrets flow in
    expect(result.code).toBe(0)
    expect(plan.targets.map((t) => t.name).sort()).toEqual(['Payments-Prod', 'aggregate'])
    expect(
      plan.targets
        .find((t) => t.name === 'aggregate')
        ?.changes.map((c) => `${c.action} ${c.name}`)
        .sort(),
    ).toEqual(['create agg/api', 'create agg/db'])

    // Given an import of a name that is neither configured nor discovered
    const broken = await writeConfig({targets: aggregate('Payments-Staging')})

    // Then the run stops with exit 2 and names it, before syncing anything
    stack.controls.resetCounters()
    const failed = await cli(broken, 'pipeline', '--dry-run')
    expect(failed.code).toBe(2)
    expect(failed.stderr).toContain('unknown import "Payments-Staging"')
    expect(stack.controls.count({service: 'secretsmanager'})).toBe(0)
  })
})

describe('history of discovered targets', () => {
  it('version list and rollback address a discovered target like a static one', async () => {
    // Given a pipeline run that stored and applied v1 for every discovered account, then a change in Vault and v2
    const accounts = modelAccounts()
    stack = await startTestStack(organizationFixture(accounts))
    const config = await writeConfig()
    expect((await cli(config, 'pipeline', '--targets', 'Payments-Prod')).code).toBe(0)
    stack.vault.putSecret('secret/', 'base/db', {user: 'app', password: 'pw-2'})
    expect((await cli(config, 'pipeline', '--targets', 'Payments-Prod')).code).toBe(0)

    // When its history is listed, and v1 restored
    const list = await cli(config, 'version list', '--target', 'Payments-Prod', '--json')
    const rollback = await cli(config, 'version rollback', '--target', 'Payments-Prod', '--version', '1', '--json')

    // Then the discovered target is known to the history commands, and its account gets v1's value back
    expect(list.code, list.stderr).toBe(0)
    expect(parsed<{versions: Array<{version: number}>}>(list).versions.map((v) => v.version)).toEqual([2, 1])
    expect(rollback.code, rollback.stderr).toBe(0)
    expect(JSON.parse(stack.aws.secretsManager.getSecret('300000000000', 'us-east-1', 'db')?.value ?? 'null')).toEqual({
      user: 'app',
      password: 'pw-1',
    })
  })
})
