/**
 * Many targets over one source: BENCH_TARGETS targets (default 500), each in its own account, each importing the
 * one source of BENCH_TARGET_SECRETS secrets (default 2000) with overrides of its own. Two rows, each in its own
 * process: `--merge-only` (every target's snapshot written to the merge store) and a `--dry-run` pipeline (merge,
 * then plan every target against an empty Secrets Manager: 1,000,000 planned creates, printed as JSON). Goal (issue 12): peak RSS below 300 MiB for both.
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
  runPipelineReportOnce,
  startStackProcess,
  writeConfig,
} from '../support.js'
import {fanoutConfig} from '../fanout-config.js'

const TARGETS = envNumber('BENCH_TARGETS', 500)
const SECRETS = envNumber('BENCH_TARGET_SECRETS', 2000)
const RSS_LIMIT_MIB = 300
const ROWS = {merge: 'merge only', sync: 'dry-run sync'} as const
type Row = keyof typeof ROWS

async function row(which: Row): Promise<void> {
  const stack = await startStackProcess({aws: {buckets: ['bench-store']}}, [{root: 'fan/', secrets: SECRETS}])
  // Latency on every call, no write quotas: the row measures memory; a dry run writes nothing to AWS anyway.
  await regionLike(stack, undefined, false)
  const file = await writeConfig(fanoutConfig(TARGETS, SECRETS))
  // The sync row prints its JSON output (to /dev/null) as the command does: holding and printing 1,000,000
  // planned creates is most of what it measures.
  const {note, seconds} =
    which === 'sync'
      ? await runPipelineReportOnce(stack.env, file, {dryRun: true}).then((run) => ({
          note: `exit ${run.exitCode}: ${JSON.stringify(run.summary)}`,
          seconds: run.seconds,
        }))
      : await runPipelineOnce(stack, file, {mergeOnly: true}).then((run) => ({
          note: outcomeNote(run.outcome),
          seconds: run.seconds,
        }))
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
    notes: [note],
  })
}

const which = process.env.BENCH_ROW as Row | undefined
if (which) await row(which)
else
  for (const name of Object.keys(ROWS))
    for (const result of await runChild(import.meta.filename, {BENCH_ROW: name})) emit(result)
