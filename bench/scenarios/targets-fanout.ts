/**
 * Many targets over one source: BENCH_TARGETS targets (default 500), each in its own account, each importing the
 * one source of BENCH_TARGET_SECRETS secrets (default 2000) with overrides of its own. Two rows, each the built CLI
 * in its own process, on this host and as in a 512 MiB container (RUNTIMES): `--merge-only` (every target's snapshot written to the merge store) and a `--dry-run` pipeline (merge,
 * then plan every target against an empty Secrets Manager: 1,000,000 planned creates, printed as JSON). Goal (issue 12): peak RSS below 300 MiB for both.
 *
 *   BENCH_TARGETS=500 BENCH_TARGET_SECRETS=2000 BENCH_SCENARIOS=targets-fanout npm run bench
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
import {fanoutConfig} from '../bench-config.js'

const TARGETS = envNumber('BENCH_TARGETS', 500)
const SECRETS = envNumber('BENCH_TARGET_SECRETS', 2000)
const RSS_LIMIT_MIB = 300
const ROWS = {merge: 'merge only', sync: 'dry-run sync'} as const
type Row = keyof typeof ROWS

async function row(which: Row, runtime: (typeof RUNTIMES)[number]): Promise<ScenarioResult> {
  const stack = await startStackProcess({aws: {buckets: ['bench-store']}}, [{root: 'fan/', secrets: SECRETS}])
  // Latency on every call, no write quotas: the row measures memory; a dry run writes nothing to AWS anyway.
  await regionLike(stack, undefined, false)
  const file = await writeConfig(fanoutConfig(TARGETS, SECRETS))
  // The sync row prints its JSON output (counted, not kept) as the command does: holding and printing 1,000,000
  // planned creates is most of what it measures.
  const run = await runCli(
    stack.env,
    ['pipeline', '--config', file, '--output', 'json', which === 'sync' ? '--dry-run' : '--merge-only'],
    runtime.flags,
    runtime.cgroup,
  )
  const calls = await stack.counters()
  await stack.close()
  return {
    scenario: `${TARGETS} targets × ${SECRETS} secrets, ${ROWS[which]}${runtime.label}`,
    seconds: run.seconds,
    peakRssMiB: run.peakRssMiB,
    calls,
    ratios: {secrets_per_second: Math.round((TARGETS * SECRETS) / run.seconds)},
    goals: [
      goalBelow(peakRssGoalName(runtime.flags), run.peakRssMiB, RSS_LIMIT_MIB, 'MiB'),
      // A run that failed early would report a low peak: the figure counts only for a run that did its work.
      goalAtMost('exit code', run.exitCode, 0),
    ],
    notes: [`exit ${run.exitCode}: ${JSON.stringify(run.summary ?? null)}`, cliNote(run)],
  }
}

for (const name of Object.keys(ROWS) as Row[]) for (const runtime of RUNTIMES) emit(await row(name, runtime))
