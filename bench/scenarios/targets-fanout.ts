/**
 * Many targets over one source: BENCH_TARGETS targets (default 500), each in its own account, each importing the
 * one source of BENCH_TARGET_SECRETS secrets (default 2000) with overrides of its own. Two rows, each in its own
 * process: `--merge-only` (every target's snapshot written to the merge store) and a `--dry-run` pipeline (merge,
 * then plan every target against an empty Secrets Manager). Goal (issue 12): peak RSS below 300 MiB for both.
 *
 *   BENCH_TARGETS=500 BENCH_TARGET_SECRETS=2000 BENCH_SCENARIOS=targets-fanout npm run bench
 */
import {
  emit,
  envNumber,
  goalBelow,
  outcomeNote,
  peakRssMiB,
  regionLike,
  runChild,
  runPipelineOnce,
  startStackProcess,
  writeConfig,
} from '../support.js'

const TARGETS = envNumber('BENCH_TARGETS', 500)
const SECRETS = envNumber('BENCH_TARGET_SECRETS', 2000)
const RSS_LIMIT_MIB = 300
const ROWS = {merge: 'merge only', sync: 'dry-run sync'} as const
type Row = keyof typeof ROWS

const config = (): string => {
  const targets = Array.from({length: TARGETS}, (_, i) => {
    const name = `t${String(i).padStart(4, '0')}`
    const account = String(100000000000 + i)
    return `  - {name: ${name}, account_id: "${account}", imports: [fan], overrides: {env: ${name}, region_tag: r${i % 7}}}\n`
  })
  return `vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
  concurrency: 32
vault_sources:
  - {name: fan, mount: secret/fan/, max_secrets: ${SECRETS + 1}}
merge_store:
  bucket: bench-store
  endpoint: \${AWS_ENDPOINT_URL}
aws:
  region: us-east-1
  endpoint: \${AWS_ENDPOINT_URL}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
targets:
${targets.join('')}sync: {concurrency: 16}
retry: {max_attempts: 8, base_delay: 100ms, max_delay: 5s}
`
}

async function row(which: Row): Promise<void> {
  const stack = await startStackProcess({aws: {buckets: ['bench-store']}}, [{root: 'fan/', secrets: SECRETS}])
  // Latency on every call, no write quotas: the row measures memory; a dry run writes nothing to AWS anyway.
  await regionLike(stack, undefined, false)
  const file = await writeConfig(config())
  const {outcome, seconds} = await runPipelineOnce(stack, file, {
    mergeOnly: which === 'merge',
    dryRun: which === 'sync',
  })
  const peak = peakRssMiB()
  const calls = await stack.counters()
  await stack.close()
  emit({
    scenario: `${TARGETS} targets × ${SECRETS} secrets, ${ROWS[which]}`,
    seconds,
    peakRssMiB: peak,
    calls,
    ratios: {secrets_per_second: Math.round((TARGETS * SECRETS) / seconds)},
    goals: [goalBelow('peak RSS', peak, RSS_LIMIT_MIB, 'MiB')],
    notes: [outcomeNote(outcome)],
  })
}

const which = process.env.BENCH_ROW as Row | undefined
if (which) await row(which)
else
  for (const name of Object.keys(ROWS))
    for (const result of await runChild(import.meta.filename, {BENCH_ROW: name})) emit(result)
