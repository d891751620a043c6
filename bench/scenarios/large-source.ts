/**
 * One large source into a few targets, merge only: BENCH_LARGE_SECRETS (default "10000,100000", a list of sizes)
 * secrets in one source, imported by BENCH_LARGE_TARGETS targets (default 4), each with overrides of its own.
 * Each size runs in its own process. Goals (issue 12): peak RSS below 450 MiB at 100,000 secrets, and the wall
 * time per secret at the largest size at most 1.5 times that at the smallest.
 *
 *   BENCH_LARGE_SECRETS=10000,100000 BENCH_LARGE_TARGETS=4 BENCH_SCENARIOS=large-source npm run bench
 */
import {
  emit,
  envNumber,
  goalAtMost,
  goalBelow,
  outcomeNote,
  peakRssMiB,
  regionLike,
  runChild,
  runPipelineOnce,
  startStackProcess,
  writeConfig,
  type ScenarioResult,
} from '../support.js'

const TARGETS = envNumber('BENCH_LARGE_TARGETS', 4)
const SIZES = (process.env.BENCH_LARGE_SECRETS ?? '10000,100000').split(',').map(Number)
const RSS_LIMIT_MIB = 450
const RSS_GOAL_AT = 100_000
const GROWTH_LIMIT = 1.5

async function row(secrets: number): Promise<void> {
  const stack = await startStackProcess({aws: {buckets: ['bench-store']}}, [{root: 'large/', secrets}])
  await regionLike(stack, undefined, false)
  const targets = Array.from(
    {length: TARGETS},
    (_, i) => `  - {name: large-${i}, account_id: "${200000000000 + i}", imports: [large], overrides: {env: e${i}}}\n`,
  )
  const file = await writeConfig(`vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
  concurrency: 32
vault_sources:
  - {name: large, mount: secret/large/, max_secrets: ${secrets + 1}}
merge_store:
  bucket: bench-store
  endpoint: \${AWS_ENDPOINT_URL}
aws:
  region: us-east-1
  endpoint: \${AWS_ENDPOINT_URL}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
targets:
${targets.join('')}`)
  const {outcome, seconds} = await runPipelineOnce(stack, file, {mergeOnly: true})
  const peak = peakRssMiB()
  const calls = await stack.counters()
  await stack.close()
  emit({
    scenario: `${secrets} secrets × ${TARGETS} targets, merge only`,
    seconds,
    peakRssMiB: peak,
    calls,
    ratios: {ms_per_secret: Math.round((seconds * 1000 * 1000) / secrets) / 1000},
    goals: secrets === RSS_GOAL_AT ? [goalBelow('peak RSS', peak, RSS_LIMIT_MIB, 'MiB')] : [],
    notes: [outcomeNote(outcome)],
  })
}

const size = process.env.BENCH_ROW
if (size) await row(Number(size))
else {
  const results: ScenarioResult[] = []
  for (const secrets of SIZES) results.push(...(await runChild(import.meta.filename, {BENCH_ROW: String(secrets)})))
  const first = results[0]
  const last = results.at(-1)
  if (first && last && last !== first) {
    const growth = (last.ratios?.ms_per_secret ?? 0) / (first.ratios?.ms_per_secret ?? 1)
    last.ratios = {...last.ratios, wall_per_secret_growth: Math.round(growth * 100) / 100}
    last.goals = [
      ...(last.goals ?? []),
      goalAtMost(`wall per secret, ${SIZES.at(-1)} vs ${SIZES[0]}`, growth, GROWTH_LIMIT, '×'),
    ]
  }
  for (const result of results) emit(result)
}
