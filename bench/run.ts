/**
 * `npm run bench`: runs each scenario (bench/scenarios/<name>.ts) in a process of its own, so the peak RSS a
 * scenario reports is its own process's high-water mark; collects the one JSON line per row each prints, shows a
 * table and saves everything to bench/results/<timestamp>.json.
 *
 *   npm run bench                                   every scenario
 *   BENCH_SCENARIOS=targets-fanout,large-source npm run bench
 *
 * A scenario file prints, per row, one line of JSON on stdout (see ScenarioResult in bench/support.ts):
 * {"scenario", "seconds", "peakRssMiB", "calls": {service: {operation: n}}, "ratios"?, "goals"?, "notes"?}.
 * Sizes come from environment variables each scenario documents at its top; BENCH_LATENCY_MS (default 5) sets
 * the per-call latency of every test server.
 */
import {mkdir, readdir, writeFile} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {LATENCY_MS, runChild, type ScenarioResult} from './support.js'

const dir = join(import.meta.dirname, 'scenarios')
const available = (await readdir(dir))
  .filter((file) => file.endsWith('.ts'))
  .map((file) => basename(file, '.ts'))
  .sort()
const requested = (process.env.BENCH_SCENARIOS ?? '')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean)
const unknown = requested.filter((name) => !available.includes(name))
if (unknown.length > 0)
  throw new Error(`BENCH_SCENARIOS names unknown scenarios ${unknown.join(', ')}; known: ${available.join(', ')}`)
const chosen = requested.length > 0 ? requested : available

const rows: Array<ScenarioResult & {file: string}> = []
const failures: string[] = []
for (const name of chosen) {
  process.stderr.write(`bench: ${name} ...\n`)
  try {
    for (const result of await runChild(join(dir, `${name}.ts`))) rows.push({...result, file: name})
  } catch (error) {
    failures.push(`${name}: ${(error as Error).message}`)
  }
}

const calls = (row: ScenarioResult): string[] =>
  Object.entries(row.calls).map(
    ([service, ops]) =>
      `${service}: ${Object.entries(ops)
        .map(([op, n]) => `${op}=${n}`)
        .join(' ')}`,
  )
const out: string[] = [`\nsecretsync benchmark: ${LATENCY_MS} ms per call, each scenario in its own process\n`]
out.push(`${'scenario'.padEnd(58)} ${'wall s'.padStart(8)} ${'peak RSS MiB'.padStart(13)}`)
for (const row of rows) {
  out.push(`${row.scenario.padEnd(58)} ${row.seconds.toFixed(1).padStart(8)} ${row.peakRssMiB.toFixed(0).padStart(13)}`)
  for (const line of calls(row)) out.push(`    ${line}`)
  const ratios = Object.entries(row.ratios ?? {})
  if (ratios.length > 0) out.push(`    ratios: ${ratios.map(([name, value]) => `${name}=${value}`).join(' ')}`)
  for (const goal of row.goals ?? [])
    out.push(
      `    goal ${goal.met ? 'MET    ' : 'NOT MET'} ${goal.name}: ${goal.value}${goal.unit ?? ''} (limit ${goal.limit}${goal.unit ?? ''})`,
    )
  for (const note of row.notes ?? []) out.push(`    note: ${note}`)
}
const goals = rows.flatMap((row) => row.goals ?? [])
out.push(`\ngoals: ${goals.filter((goal) => goal.met).length} of ${goals.length} met`)
for (const failure of failures) out.push(`FAILED ${failure}`)

const results = join(import.meta.dirname, 'results')
await mkdir(results, {recursive: true})
const file = join(results, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
await writeFile(file, `${JSON.stringify({latencyMs: LATENCY_MS, scenarios: chosen, rows, failures}, null, 2)}\n`)
out.push(`saved ${file}\n`)
process.stdout.write(out.join('\n'))
if (failures.length > 0) process.exitCode = 1
