/**
 * The everyday CronJob (issue 12): BENCH_TARGETS targets (default 500) × BENCH_TARGET_SECRETS secrets (default
 * 2000), the fan-out config of targets-fanout, where AWS already holds the desired state. Set-up plans the first
 * sync in a process of its own and seeds the stack with what it would create (1,000,000 CreateSecret calls through
 * the API would take the better part of an hour here); then three rows, each in a fresh process with per-call
 * latency on every service: the first no-change `pipeline` (no applied record yet: it reads every value, and
 * records them), then the everyday `pipeline --dry-run` and no-change `pipeline`, each the built CLI as users run
 * it (`bin/run.js`, `--output json`; `npm run build` first), measuring itself (bench/cli-peak.mjs). Goals: peak RSS below 300 MiB, and every plan unchanged (no
 * change listed, no write call).
 *
 *   BENCH_TARGETS=500 BENCH_TARGET_SECRETS=2000 BENCH_SYNC_CONCURRENCY=16 BENCH_SCENARIOS=steady-state npm run bench
 */
import {once} from 'node:events'
import {createWriteStream} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {runPipeline} from '../../src/pipeline/run-pipeline.js'
import {desiredMetadata} from '../../src/sync/metadata.js'
import {stringifyJson} from '../../src/util/exact-json.js'
import {SECRETS_MANAGER_WRITES} from '../../test/support/e2e.js'
import type {SeedLine} from '../stack-process.js'
import {fanoutConfig} from '../bench-config.js'
import {
  emit,
  envNumber,
  goalAtMost,
  goalBelow,
  peakRssMiB,
  regionLike,
  runChild,
  runCli,
  peakRssGoalName,
  cliNote,
  CONTAINER_512_MIB_FLAGS,
  startStackProcess,
  surroundingsFor,
  writeConfig,
} from '../support.js'

const TARGETS = envNumber('BENCH_TARGETS', 500)
const SECRETS = envNumber('BENCH_TARGET_SECRETS', 2000)
const RSS_LIMIT_MIB = 300
const SYNC = `{concurrency: ${envNumber('BENCH_SYNC_CONCURRENCY', 16)}}`
const PHASES = {
  setup: 'set-up plan',
  first: 'first no-change apply (no applied record: reads every value)',
  'dry-run': 'steady-state dry-run',
  apply: 'steady-state no-change apply',
}
// BENCH_STEADY_ROWS=first,dry-run,dry-run@--max-semi-space-size=32: which rows, in order (the first apply writes
// the applied records the everyday rows rely on), each optionally with Node flags for its process (space-separated;
// `@container`: as in a 512 MiB container, CONTAINER_512_MIB_FLAGS), to compare V8 settings on one seeded stack.
const ROWS = (process.env.BENCH_STEADY_ROWS ?? 'first,dry-run,apply,dry-run@container,apply@container')
  .split(',')
  .map((spec) => {
    const [which = '', flags = ''] = spec.trim().split('@')
    if (which !== 'first' && which !== 'dry-run' && which !== 'apply')
      throw new Error(`BENCH_STEADY_ROWS: unknown row "${which}" (first, dry-run, apply)`)
    const container = flags === 'container'
    return {
      which,
      nodeFlags: container ? CONTAINER_512_MIB_FLAGS : flags,
      label: container ? ', V8 heap as in a 512 MiB container' : flags ? ` (node ${flags})` : '',
    } as const
  })
const OWNERSHIP = {key: 'managed-by', value: 'secretsync'}

/**
 * In a child, set-up: what the first sync would create, from a `--dry-run --show-values` plan (the merged and
 * shaped values, with the tags and description secretsync sets), written as seed lines for the stack process.
 */
async function setup(): Promise<void> {
  const started = performance.now()
  const stackEnv = JSON.parse(process.env.BENCH_STACK_ENV ?? '{}') as Record<string, string>
  const outcome = await runPipeline({
    configPath: process.env.BENCH_CONFIG ?? '',
    dryRun: true,
    mergeOnly: false,
    syncOnly: false,
    showValues: true,
    surroundings: surroundingsFor(stackEnv),
  })
  if (outcome.kind !== 'sync') throw new Error('set-up: not a sync outcome')
  const out = createWriteStream(process.env.BENCH_SEED_FILE ?? '')
  for (const target of outcome.result.targets) {
    const {tags, description = ''} = desiredMetadata({target: target.name, ownership: OWNERSHIP, tags: {}})
    for (const change of target.changes) {
      const line: SeedLine = {
        account: target.account_id ?? '',
        region: target.region,
        name: change.name,
        value: stringifyJson(change.after ?? null),
        tags,
        description,
      }
      if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain')
    }
  }
  await new Promise<void>((resolve) => out.end(resolve))
  emit({
    scenario: `${TARGETS} targets × ${SECRETS} secrets, ${PHASES.setup}`,
    seconds: (performance.now() - started) / 1000,
    peakRssMiB: peakRssMiB(),
    calls: {},
    notes: [`exit ${outcome.exitCode}: ${JSON.stringify(outcome.result.summary)}`],
  })
}

const changed = (summary: Record<string, number> | undefined): number =>
  ['created', 'updated', 'restored', 'deleted', 'conflicts', 'failed', 'failed_targets', 'drifted']
    .map((key) => summary?.[key] ?? Number.NaN)
    .reduce((a, b) => a + b, 0)

async function scenario(): Promise<void> {
  const stack = await startStackProcess({aws: {buckets: ['bench-store']}}, [{root: 'fan/', secrets: SECRETS}])
  const config = await writeConfig(fanoutConfig(TARGETS, SECRETS, SYNC))
  const seeds = join(await mkdtemp(join(tmpdir(), 'secretsync-bench-steady-')), 'seeds.jsonl')
  const env = {BENCH_STACK_ENV: JSON.stringify(stack.env), BENCH_CONFIG: config, BENCH_SEED_FILE: seeds}
  try {
    const [planned] = await runChild(import.meta.filename, {...env, BENCH_PHASE: 'setup'})
    if (!planned) throw new Error('set-up printed no result')
    const seeded = await stack.seedSecretsFile(seeds)
    await rm(dirname(seeds), {recursive: true, force: true})
    process.stderr.write(`steady-state: set-up seeded ${seeded} secrets in ${planned.seconds.toFixed(0)} s\n`)
    await regionLike(stack, undefined, false)
    // No applied record yet: the first apply reads every value (BatchGetSecretValue) and records them; then the
    // everyday runs, where the applied record vouches for every secret and no value is read.
    for (const {which, nodeFlags, label} of ROWS) {
      await stack.resetCounters()
      const run = await runCli(
        stack.env,
        ['pipeline', '--config', config, '--output', 'json', ...(which === 'dry-run' ? ['--dry-run'] : [])],
        nodeFlags,
      )
      const calls = await stack.counters()
      const writes = SECRETS_MANAGER_WRITES.reduce((sum, op) => sum + (calls.secretsmanager?.[op] ?? 0), 0)
      emit({
        scenario: `${TARGETS} targets × ${SECRETS} secrets, ${PHASES[which]}${label}`,
        seconds: run.seconds,
        peakRssMiB: run.peakRssMiB,
        calls,
        ratios: {secrets_per_second: Math.round((TARGETS * SECRETS) / run.seconds)},
        goals: [
          goalBelow(peakRssGoalName(nodeFlags), run.peakRssMiB, RSS_LIMIT_MIB, 'MiB'),
          goalAtMost('changes planned or failed', changed(run.summary), 0),
          goalAtMost('Secrets Manager writes', writes, 0),
        ],
        notes: [`exit ${run.exitCode}: ${JSON.stringify(run.summary ?? null)}`, cliNote(run)],
      })
    }
  } finally {
    await stack.close()
  }
}

if (process.env.BENCH_PHASE === 'setup') await setup()
else await scenario()
