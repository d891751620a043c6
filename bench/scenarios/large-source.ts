/**
 * One large source into a few targets, merge only: BENCH_LARGE_SECRETS (default "10000,100000", a list of sizes)
 * secrets in one source, imported by BENCH_LARGE_TARGETS targets (default 4), each with overrides of its own.
 * Each size runs as the built CLI in its own process, on this host and as in a 512 MiB container (RUNTIMES). Goals (issue 12): peak RSS below 450 MiB at 100,000 secrets, and the wall
 * time per secret at the largest size at most 1.5 times that at the smallest.
 *
 *   BENCH_LARGE_SECRETS=10000,100000 BENCH_LARGE_TARGETS=4 BENCH_SCENARIOS=large-source npm run bench
 */
import {
  cliNote,
  emit,
  envNumber,
  goalAtMost,
  goalBelow,
  regionLike,
  runCli,
  peakRssGoalName,
  RUNTIMES,
  startStackProcess,
  writeConfig,
  type ScenarioResult,
} from '../support.js'
import {benchConfig} from '../bench-config.js'

const TARGETS = envNumber('BENCH_LARGE_TARGETS', 4)
const SIZES = (process.env.BENCH_LARGE_SECRETS ?? '10000,100000').split(',').map(Number)
const RSS_LIMIT_MIB = 450
const RSS_GOAL_AT = 100_000
const GROWTH_LIMIT = 1.5

async function row(secrets: number, runtime: (typeof RUNTIMES)[number]): Promise<ScenarioResult> {
  const stack = await startStackProcess({aws: {buckets: ['bench-store']}}, [{root: 'large/', secrets}])
  await regionLike(stack, undefined, false)
  const targets = Array.from(
    {length: TARGETS},
    (_, i) => `  - {name: large-${i}, account_id: "${200000000000 + i}", imports: [large], overrides: {env: e${i}}}\n`,
  )
  const file = await writeConfig(benchConfig('large', secrets, targets))
  const run = await runCli(
    stack.env,
    ['pipeline', '--config', file, '--merge-only', '--output', 'json'],
    runtime.flags,
    runtime.cgroup,
  )
  const calls = await stack.counters()
  await stack.close()
  return {
    scenario: `${secrets} secrets × ${TARGETS} targets, merge only${runtime.label}`,
    seconds: run.seconds,
    peakRssMiB: run.peakRssMiB,
    calls,
    ratios: {ms_per_secret: Math.round((run.seconds * 1000 * 1000) / secrets) / 1000},
    goals: [
      ...(secrets === RSS_GOAL_AT
        ? [goalBelow(peakRssGoalName(runtime.flags), run.peakRssMiB, RSS_LIMIT_MIB, 'MiB')]
        : []),
      // A run that failed early would report a low peak and a short time.
      goalAtMost('exit code', run.exitCode, 0),
    ],
    notes: [`exit ${run.exitCode}`, cliNote(run)],
  }
}

for (const runtime of RUNTIMES) {
  const results: ScenarioResult[] = []
  for (const secrets of SIZES) results.push(await row(secrets, runtime))
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
