/**
 * What one sync costs in time and API calls: BENCH_SECRETS secrets (default 5000) in one source synced to one
 * target, with the documented Secrets Manager quotas and BENCH_WRITE_RATE writes/s (default 40). Rows, in one
 * process and against one stack (each row starts from what the one before left): merge only (dry run), first
 * sync, no-change re-run, one secret changed, sync-only. Peak RSS is the process's, so it only grows row to row.
 *
 *   BENCH_SECRETS=5000 BENCH_WRITE_RATE=40 BENCH_SCENARIOS=sync-cost npm run bench
 */
import {
  emit,
  envNumber,
  outcomeNote,
  peakRssMiB,
  regionLike,
  runPipelineOnce,
  startStackProcess,
  treeKey,
  writeConfig,
  type PipelineFlags,
} from '../support.js'
import {benchConfig} from '../bench-config.js'

const SECRETS = envNumber('BENCH_SECRETS', 5000)
const WRITE_RATE = envNumber('BENCH_WRITE_RATE', 40)
const tree = {root: 'bench/', secrets: SECRETS}

const stack = await startStackProcess({aws: {buckets: ['bench-store']}}, [tree])
await regionLike(stack)
const config = await writeConfig(
  benchConfig(
    'bench',
    SECRETS,
    ['  - {name: bench-target, account_id: "111111111111", imports: [bench], overrides: {env: bench}}\n'],
    `sync: {write_rate: ${WRITE_RATE}}
retry: {max_attempts: 8, base_delay: 100ms, max_delay: 5s}
`,
  ),
)

async function row(name: string, flags: PipelineFlags = {}): Promise<void> {
  await stack.resetCounters()
  const {outcome, seconds} = await runPipelineOnce(stack, config, flags)
  emit({
    scenario: `sync cost, ${SECRETS} secrets: ${name}`,
    seconds,
    peakRssMiB: peakRssMiB(),
    calls: await stack.counters(),
    ratios: {secrets_per_second: Math.round(SECRETS / seconds)},
    notes: [outcomeNote(outcome)],
  })
}

await row('merge only (dry run)', {mergeOnly: true, dryRun: true})
await row(`first sync (create ${SECRETS})`)
await row('no-change re-run')
await stack.putSecret('secret/', treeKey(tree, 0), {user: 'changed'})
await row('one secret changed')
await row('sync-only, nothing changed', {syncOnly: true})
await stack.close()
