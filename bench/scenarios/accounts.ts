/**
 * Bench scenario: many accounts, few secrets each (issue 12). N targets, each in its own account through
 * `account_id` + `aws.role_pattern`, all importing one source of K secrets: a first sync, then a no-change re-run
 * whose per-account API cost and wall time are the goals. Prints one JSON line per row (the bench/run.ts contract).
 *
 *   BENCH_ACCOUNTS=1000 BENCH_ACCOUNT_SECRETS=20 BENCH_SYNC_CONCURRENCY=32 BENCH_LATENCY_MS=5 tsx bench/scenarios/accounts.ts
 *
 * "Wall time bounded by sync.concurrency": a run over N accounts should take what N accounts cost at C at a time,
 * and no more: wall ≤ 1.25 × max(N × t₁ / C, busy), where t₁ is one account's no-change sync measured serially
 * (concurrency 1 over a sample) and `busy` is the time the event loop was working (event-loop utilisation × wall:
 * the one JS thread, shared with the in-process test stack and, on a loaded machine, with other processes). A
 * hidden serialisation (a shared breaker, a global lock, one AssumeRole at a time) leaves the loop idle while the
 * wall exceeds both.
 */
import {mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runPipeline} from '../../src/pipeline/run-pipeline.js'
import {SECRETS_MANAGER_WRITES} from '../../test/support/e2e.js'
import {emit, envNumber, LATENCY_MS, peakRssMiB, type Goal, type ScenarioResult} from '../support.js'
import {startTestStack, type TestStack} from '../../test/support/stack.js'

const ACCOUNTS = envNumber('BENCH_ACCOUNTS', 1000)
const K = envNumber('BENCH_ACCOUNT_SECRETS', 20)
const CONCURRENCY = envNumber('BENCH_SYNC_CONCURRENCY', 32)
const SAMPLE = Math.min(ACCOUNTS, envNumber('BENCH_SERIAL_SAMPLE', 20))
const REGION = 'us-east-1'

const accountId = (i: number): string => String(100000000000 + i)

async function config(count: number, concurrency: number): Promise<string> {
  const targets = Array.from(
    {length: count},
    (_, i) => `  - {name: a${i}, account_id: "${accountId(i)}", imports: [base], secret_prefix: app/}\n`,
  ).join('')
  const dir = await mkdtemp(join(tmpdir(), 'secretsync-bench-accounts-'))
  const file = join(dir, 'secretsync.yaml')
  await writeFile(
    file,
    `vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
vault_sources:
  - {name: base, mount: secret/base/}
merge_store:
  bucket: bench-store
  endpoint: \${AWS_ENDPOINT_URL}
aws:
  region: ${REGION}
  endpoint: \${AWS_ENDPOINT_URL}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
targets:
${targets}sync: {concurrency: ${concurrency}}
retry: {max_attempts: 8, base_delay: 100ms, max_delay: 5s}
logging: {level: warn}
`,
  )
  return file
}

interface Measured {
  seconds: number
  cpuSeconds: number
  busySeconds: number
  exitCode: number
  summary: Record<string, number>
}

async function run(configPath: string): Promise<Measured> {
  const cpu = process.cpuUsage()
  const loop = performance.eventLoopUtilization()
  const started = performance.now()
  const outcome = await runPipeline({
    configPath,
    dryRun: false,
    mergeOnly: false,
    syncOnly: false,
    surroundings: {
      env: {...process.env, SECRETSYNC_SHARDS: undefined, SECRETSYNC_SHARD: undefined},
      stderr: process.stderr,
      stdoutIsTTY: false,
      now: Date.now,
      stop: new AbortController().signal,
      logLevel: (process.env.BENCH_LOG_LEVEL as 'warn' | undefined) ?? 'warn',
      logFormat: 'text',
    },
  })
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  return {
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    busySeconds: performance.eventLoopUtilization(loop).active / 1000,
    exitCode: outcome.exitCode,
    summary: outcome.result.summary as unknown as Record<string, number>,
  }
}

/** Most calls of `operation` any one account-region made, and the total. */
function perAccount(stack: TestStack, service: string, operation: string): {max: number; total: number} {
  let max = 0
  let total = 0
  for (let i = 0; i < ACCOUNTS; i++) {
    const n = stack.controls.count({service, operation, account: accountId(i), region: REGION})
    max = Math.max(max, n)
    total += n
  }
  return {max, total}
}

/** AssumeRole calls per target account (the stack counts STS calls under the caller's account; its log names the role). */
function assumeRolesPerAccount(stack: TestStack, since: number): {max: number; total: number; accounts: number} {
  const byAccount = new Map<string, number>()
  for (const call of stack.aws.sts.assumeRoleCalls().slice(since)) {
    const account = /^arn:aws:iam::(\d{12}):/.exec(call.roleArn)?.[1] ?? call.roleArn
    byAccount.set(account, (byAccount.get(account) ?? 0) + 1)
  }
  const counts = [...byAccount.values()]
  return {max: Math.max(0, ...counts), total: counts.reduce((a, b) => a + b, 0), accounts: byAccount.size}
}

const writes = (stack: TestStack): number =>
  SECRETS_MANAGER_WRITES.reduce(
    (sum, operation) => sum + stack.controls.count({service: 'secretsmanager', operation}),
    0,
  )

const secrets: Record<string, Record<string, unknown>> = {}
for (let i = 0; i < K; i++) secrets[`secret/base/s${String(i).padStart(4, '0')}`] = {user: `u${i}`, password: `p${i}`}
const stack = await startTestStack({vault: {secrets}, aws: {buckets: ['bench-store']}})
Object.assign(process.env, stack.env, {AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'})
for (const service of ['vault', 'secretsmanager', 's3', 'sts']) stack.controls.setLatency({service, ms: LATENCY_MS})
// The documented Secrets Manager quotas per account-region.
stack.controls.setQuota({service: 'secretsmanager', operation: 'CreateSecret', ratePerSecond: 50})
stack.controls.setQuota({service: 'secretsmanager', operation: 'ListSecrets', ratePerSecond: 100})

const rows: ScenarioResult[] = []
const all = await config(ACCOUNTS, CONCURRENCY)
const shape = `${ACCOUNTS} accounts × ${K} secrets, sync.concurrency ${CONCURRENCY}, ${LATENCY_MS} ms per call`

// 1. First sync: every account's secrets are created.
stack.controls.resetCounters()
const first = await run(all)
rows.push({
  scenario: `accounts: first sync (${shape})`,
  seconds: first.seconds,
  peakRssMiB: peakRssMiB(),
  calls: stack.controls.snapshot(),
  ratios: {accountsPerSecond: ACCOUNTS / first.seconds},
  notes: [`exit ${first.exitCode}`, `summary ${JSON.stringify(first.summary)}`],
})

// 2. Calibration: one account's no-change sync, serially, over a sample (the same store: nothing changes).
const sample = await config(SAMPLE, 1)
const serial = await run(sample)
const perAccountSerial = serial.seconds / SAMPLE

// 3. The no-change re-run over every account.
stack.controls.resetCounters()
const assumedBefore = stack.aws.sts.assumeRoleCalls().length
const rerun = await run(all)
const assumed = assumeRolesPerAccount(stack, assumedBefore)
const listed = perAccount(stack, 'secretsmanager', 'ListSecrets')
const concurrencyBound = (ACCOUNTS * perAccountSerial) / CONCURRENCY
const bound = Math.max(concurrencyBound, rerun.busySeconds)
const goals: Goal[] = [
  {
    name: 'AssumeRole per account',
    value: assumed.max,
    limit: 1,
    met: assumed.max <= 1 && assumed.accounts === ACCOUNTS,
  },
  {
    name: 'ListSecrets per account-region',
    value: listed.max,
    limit: Math.ceil(K / 100),
    met: listed.max <= Math.ceil(K / 100),
  },
  {name: 'Secrets Manager writes', value: writes(stack), limit: 0, met: writes(stack) === 0},
  {
    name: 'wall / max(N × t₁ / concurrency, event-loop busy time)',
    value: rerun.seconds / bound,
    limit: 1.25,
    met: rerun.seconds / bound <= 1.25,
  },
  {name: 'exit code', value: rerun.exitCode, limit: 0, met: rerun.exitCode === 0},
]
rows.push({
  scenario: `accounts: no-change re-run (${shape})`,
  seconds: rerun.seconds,
  peakRssMiB: peakRssMiB(),
  calls: stack.controls.snapshot(),
  ratios: {
    accountsPerSecond: ACCOUNTS / rerun.seconds,
    serialSecondsPerAccount: perAccountSerial,
    concurrencyBoundSeconds: concurrencyBound,
    busySeconds: rerun.busySeconds,
    cpuSeconds: rerun.cpuSeconds,
  },
  goals,
  notes: [
    `exit ${rerun.exitCode}`,
    `summary ${JSON.stringify(rerun.summary)}`,
    `AssumeRole ${assumed.total} for ${assumed.accounts} accounts; ListSecrets ${listed.total}`,
    `t₁ from ${SAMPLE} accounts at concurrency 1: ${serial.seconds.toFixed(2)} s`,
    'peakRssMiB is the process high-water mark so far (the first sync included)',
  ],
})
await stack.close()
rows.forEach(emit)
