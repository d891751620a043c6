/**
 * Bench scenario "shared quota" (issue 15): secretsync sharing an account-region's Secrets Manager write quota
 * (50/s, combined) with other writers, or told to write faster than the quota allows. For each row it runs the
 * real pipeline in this process against the test stack (5 ms per call) and prints ONE JSON line to stdout:
 * achieved write throughput against the capacity actually left (goal ≥ 0.8×), and throttled against
 * successful writes (goal ≤ 25 %). Progress and logs go to stderr.
 *
 *   tsx bench/scenarios/shared-quota.ts          (SHARED_QUOTA_SCALE=0.2 for a quick look)
 *
 * Helpers are local to this file until bench/support.ts exists on main.
 */
import {runPipeline} from '../../src/pipeline/run-pipeline.js'
import {MANAGED_DESCRIPTION} from '../../src/sync/metadata.js'
import {writeTempConfig} from '../../test/support/cli.js'
import {SECRETS_MANAGER_WRITES} from '../../test/support/e2e.js'
import {emit, envNumber, LATENCY_MS, type ScenarioResult} from '../support.js'
import {startTestStack, type TestStack} from '../../test/support/stack.js'

const SCALE = envNumber('SHARED_QUOTA_SCALE', 1)
const ACCOUNT = '111111111111'
const REGION = 'us-east-1'
const QUOTA = 50
const WRITES = ['CreateSecret', 'PutSecretValue', 'UpdateSecret', 'DeleteSecret']

interface Case {
  name: string
  secrets: number
  writeRate: number
  /** What other writers take of the 50/s quota. */
  othersPerSecond: number
  /** Secrets already in AWS (owned, older values): the run updates them instead of creating them. */
  updates: boolean
  /** The quota's rate for this case (50/s, or a lower one). */
  quota?: number
}

const path = (i: number): string => `f${String(i % 20).padStart(2, '0')}/s${String(i).padStart(5, '0')}`
const value = (i: number, generation: number) => ({user: `u${i}`, password: `p${i}-${generation}-${'x'.repeat(48)}`})

const writesIn = (stack: TestStack): number =>
  SECRETS_MANAGER_WRITES.reduce(
    (sum, operation) => sum + stack.controls.count({service: 'secretsmanager', operation}),
    0,
  )

async function run(test: Case): Promise<ScenarioResult> {
  const secrets = Object.fromEntries(
    Array.from({length: test.secrets}, (_, i) => [`secret/bench/${path(i)}`, value(i, 1)]),
  )
  const stack = await startTestStack({vault: {secrets}, aws: {buckets: ['bench-store']}})
  try {
    Object.assign(process.env, stack.env, {AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'})
    for (const service of ['vault', 'secretsmanager', 's3', 'sts']) stack.controls.setLatency({service, ms: LATENCY_MS})
    if (test.updates)
      for (let i = 0; i < test.secrets; i++)
        stack.aws.secretsManager.seedSecret(ACCOUNT, REGION, {
          name: `bench/${path(i)}`,
          value: JSON.stringify(value(i, 0)),
          description: MANAGED_DESCRIPTION,
          tags: {'managed-by': 'secretsync', 'secretsync:target': 'shared'},
        })
    const quota = test.quota ?? QUOTA
    stack.controls.setQuota({
      service: 'secretsmanager',
      operations: WRITES,
      ratePerSecond: quota,
      otherCallersPerSecond: test.othersPerSecond,
    })
    stack.controls.setQuota({service: 'secretsmanager', operation: 'ListSecrets', ratePerSecond: 100})
    const config = await writeTempConfig(`vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
  concurrency: 32
vault_sources:
  - {name: bench, mount: secret/bench/}
merge_store:
  bucket: bench-store
  endpoint: \${AWS_ENDPOINT_URL}
aws:
  region: ${REGION}
  endpoint: \${AWS_ENDPOINT_URL}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
targets:
  - {name: shared, account_id: "${ACCOUNT}", region: ${REGION}, imports: [bench], secret_prefix: bench/}
sync: {write_rate: ${test.writeRate}}
`)
    // The write window: from the first write the server saw to the last one (sampled every 20 ms).
    let firstWriteAt: number | undefined
    let lastWriteAt = 0
    let seen = 0
    let peakRss = process.memoryUsage().rss
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss)
      const writes = writesIn(stack)
      if (writes > seen) {
        firstWriteAt ??= performance.now()
        lastWriteAt = performance.now()
        seen = writes
      }
    }, 20)
    const started = performance.now()
    const outcome = await runPipeline({
      configPath: config,
      dryRun: false,
      mergeOnly: false,
      syncOnly: false,
      surroundings: {
        env: {...process.env, SECRETSYNC_SHARDS: undefined, SECRETSYNC_SHARD: undefined},
        stderr: process.stderr,
        stdoutIsTTY: false,
        now: Date.now,
        stop: new AbortController().signal,
        logLevel: 'error',
        logFormat: 'text',
      },
    })
    const seconds = (performance.now() - started) / 1000
    clearInterval(sampler)

    const throttled = stack.controls.throttled({service: 'secretsmanager'})
    const succeeded = writesIn(stack) - throttled
    const windowSeconds = Math.max(0.001, (lastWriteAt - (firstWriteAt ?? lastWriteAt)) / 1000)
    // What the quota left us over the window: its rate less the other writers', plus the bucket's share at the start
    // (the test stack's quota starts full, the other writers holding their part of it).
    const left = quota - test.othersPerSecond
    const available = Math.min(left + left / windowSeconds, test.writeRate)
    const achieved = succeeded / windowSeconds
    const capacity = achieved / available
    const throttledShare = succeeded > 0 ? throttled / succeeded : 0
    const summary = outcome.kind === 'sync' ? outcome.result.summary : undefined
    const report = outcome.kind === 'sync' ? outcome.result.throttling?.[0] : undefined
    const applied = (summary?.created ?? 0) + (summary?.updated ?? 0)
    return {
      scenario: test.name,
      seconds,
      peakRssMiB: peakRss / 2 ** 20,
      calls: stack.controls.snapshot(),
      ratios: {
        achieved_writes_per_second: round(achieved),
        available_writes_per_second: round(available),
        capacity_used: round(capacity),
        throttled_per_successful_write: round(throttledShare),
        final_write_rate: report?.write_rate.final ?? 0,
        lowest_write_rate: report?.write_rate.lowest ?? 0,
      },
      goals: [
        {name: 'achieved / available capacity', value: round(capacity), limit: 0.8, unit: '×', met: capacity >= 0.8},
        {
          name: 'throttled / successful writes',
          value: round(throttledShare * 100),
          limit: 25,
          unit: '%',
          met: throttledShare <= 0.25,
        },
        {
          name: 'secrets applied',
          value: applied,
          limit: test.secrets,
          met: applied === test.secrets && (summary?.failed ?? 1) === 0 && outcome.exitCode === 0,
        },
      ],
      notes: [
        `exit ${outcome.exitCode}; ${succeeded} writes, ${throttled} throttled, over a ${windowSeconds.toFixed(1)} s write window`,
        `quota ${quota}/s, other writers ${test.othersPerSecond}/s, write_rate ${test.writeRate}, ${LATENCY_MS} ms per call`,
      ],
    }
  } finally {
    await stack.close()
  }
}

const round = (n: number): number => Math.round(n * 1000) / 1000
const sized = (n: number): number => Math.max(20, Math.round(n * SCALE))

const cases: Case[] = [
  {
    name: `shared quota: ${sized(500)} creates, 25/s of 50/s left, write_rate 48`,
    secrets: sized(500),
    writeRate: 48,
    othersPerSecond: 25,
    updates: false,
  },
  {
    name: `shared quota: ${sized(300)} updates against 20/s, write_rate 48`,
    secrets: sized(300),
    writeRate: 48,
    othersPerSecond: 0,
    updates: true,
    quota: 20,
  },
  {
    name: `shared quota: ${sized(500)} creates, write_rate 100 above the 50/s quota`,
    secrets: sized(500),
    writeRate: 100,
    othersPerSecond: 0,
    updates: false,
  },
]

for (const test of cases) {
  process.stderr.write(`running: ${test.name}\n`)
  emit(await run(test))
}
