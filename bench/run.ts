/**
 * `npm run bench`: speed, memory and API-call cost of the pipeline against the in-process test stack, with
 * per-call latency like a real region's. Each scenario runs the real pipeline (runPipeline) in this process;
 * results print as a table and are saved to bench/results/<timestamp>.json.
 *
 *   BENCH_SECRETS=5000 BENCH_LATENCY_MS=5 npm run bench
 */
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {runPipeline} from '../src/pipeline/run-pipeline.js'
import {writeTempConfig} from '../test/support/cli.js'
import {startTestStack, type TestStack} from '../test/support/stack.js'

const SECRETS = Number(process.env.BENCH_SECRETS ?? 5000)
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 5)
const WRITE_RATE = Number(process.env.BENCH_WRITE_RATE ?? 40)
const FOLDERS = Math.max(1, Math.round(SECRETS / 100))

interface Row {
  scenario: string
  seconds: number
  heapMiB: number
  rssMiB: number
  calls: Record<string, Record<string, number>>
  summary: string
}

function fixture() {
  const secrets: Record<string, Record<string, unknown>> = {}
  for (let i = 0; i < SECRETS; i++) {
    const folder = `f${String(i % FOLDERS).padStart(3, '0')}`
    secrets[`secret/bench/${folder}/s${String(i).padStart(6, '0')}`] = {
      user: `u${i}`,
      password: `p${i}-${'x'.repeat(64)}`,
      hosts: ['a', 'b'],
    }
  }
  return {vault: {secrets}, aws: {buckets: ['bench-store']}}
}

async function scenario(
  stack: TestStack,
  name: string,
  config: string,
  flags: {dryRun?: boolean; mergeOnly?: boolean; syncOnly?: boolean} = {},
): Promise<Row> {
  stack.controls.resetCounters()
  global.gc?.()
  const before = process.memoryUsage()
  const started = performance.now()
  let peakHeap = before.heapUsed
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 50)
  const outcome = await runPipeline({
    configPath: config,
    dryRun: flags.dryRun ?? false,
    mergeOnly: flags.mergeOnly ?? false,
    syncOnly: flags.syncOnly ?? false,
    surroundings: {
      env: {...process.env, SECRETSYNC_SHARDS: undefined, SECRETSYNC_SHARD: undefined},
      stderr: process.stderr,
      stdoutIsTTY: false,
      now: Date.now,
      stop: new AbortController().signal,
      logLevel: 'warn',
      logFormat: 'text',
    },
  })
  clearInterval(sampler)
  const seconds = (performance.now() - started) / 1000
  const summary =
    outcome.kind === 'sync' ? JSON.stringify(outcome.result.summary) : JSON.stringify(outcome.result.summary)
  return {
    scenario: name,
    seconds,
    heapMiB: (peakHeap - before.heapUsed) / 2 ** 20,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    calls: stack.controls.snapshot(),
    summary,
  }
}

const stack = await startTestStack(fixture())
Object.assign(process.env, stack.env, {AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'})
stack.controls.setLatency({service: 'vault', ms: LATENCY_MS})
for (const service of ['secretsmanager', 's3', 'sts']) stack.controls.setLatency({service, ms: LATENCY_MS})
// The documented Secrets Manager quotas: 50 writes/s (Create/Put) and 100 ListSecrets/s per account-region.
stack.controls.setQuota({service: 'secretsmanager', operation: 'CreateSecret', ratePerSecond: 50})
stack.controls.setQuota({service: 'secretsmanager', operation: 'PutSecretValue', ratePerSecond: 50})
stack.controls.setQuota({service: 'secretsmanager', operation: 'ListSecrets', ratePerSecond: 100})

const config = await writeTempConfig(`vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
  concurrency: 32
vault_sources:
  - {name: bench, mount: secret/bench/, max_secrets: ${SECRETS + 1}}
merge_store:
  bucket: bench-store
  endpoint: \${AWS_ENDPOINT_URL}
aws:
  region: us-east-1
  endpoint: \${AWS_ENDPOINT_URL}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
targets:
  - {name: bench-target, account_id: "111111111111", imports: [bench], overrides: {env: bench}}
sync: {write_rate: ${WRITE_RATE}}
retry: {max_attempts: 8, base_delay: 100ms, max_delay: 5s}
`)

const rows: Row[] = []
rows.push(await scenario(stack, `merge only, ${SECRETS} secrets (dry run)`, config, {mergeOnly: true, dryRun: true}))
rows.push(await scenario(stack, `first sync: create ${SECRETS}`, config))
rows.push(await scenario(stack, 'no-change re-run', config))
stack.vault.putSecret('secret/', 'bench/f000/s000000', {user: 'changed'})
rows.push(await scenario(stack, 'one secret changed', config))
rows.push(await scenario(stack, 'sync-only, nothing changed', config, {syncOnly: true}))
await stack.close()

const calls = (row: Row, service: string) =>
  Object.entries(row.calls[service] ?? {})
    .map(([op, n]) => `${op}=${n}`)
    .join(' ')
process.stdout.write(
  `\nsecretsync benchmark: ${SECRETS} secrets in ${FOLDERS} folders, ${LATENCY_MS} ms per call, write_rate ${WRITE_RATE}/s\n\n`,
)
for (const row of rows) {
  process.stdout.write(
    `${row.scenario}\n  ${row.seconds.toFixed(2)} s, heap +${row.heapMiB.toFixed(1)} MiB, rss ${row.rssMiB.toFixed(0)} MiB\n`,
  )
  for (const service of ['vault', 'secretsmanager', 's3', 'sts'])
    if (row.calls[service]) process.stdout.write(`  ${service}: ${calls(row, service)}\n`)
}
const dir = join(import.meta.dirname, 'results')
await mkdir(dir, {recursive: true})
const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
await writeFile(file, JSON.stringify({secrets: SECRETS, latencyMs: LATENCY_MS, writeRate: WRITE_RATE, rows}, null, 2))
process.stdout.write(`\nsaved ${file}\n`)
