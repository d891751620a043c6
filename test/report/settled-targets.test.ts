import {mkdtempSync, readdirSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {renderPipelineOutput} from '../../src/report/render-pipeline.js'
import {renderSync, type SyncFormat} from '../../src/report/render-sync.js'
import {SettledTargets} from '../../src/report/settled-targets.js'
import {renderSyncJson} from '../../src/report/sync-json.js'
import type {SyncRunResult, TargetSyncResult} from '../../src/sync/types.js'
import {stringifyJsonSafely} from '../../src/util/untrusted-text.js'
import {HostileText} from '../support/hostile-text.js'
import {change, run, sampleRun, sampleRunWithValues, target} from './sync-fixtures.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
})
const tmp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'settled-test-'))
  dirs.push(dir)
  return dir
}

/** Hostile names and errors (control characters, `::`, `##[`, lone surrogates, bidi), many changes per target. */
function hostileTargets(seed: number, count: number): TargetSyncResult[] {
  const gen = new HostileText(seed)
  const actions = ['create', 'update', 'delete', 'conflict', 'skip'] as const
  return Array.from({length: count}, (_, i) =>
    target(`t${i}-${gen.string()}`, {
      account_id: gen.chance(0.2) ? null : String(100000000000 + i),
      status: gen.chance(0.2) ? 'failed' : 'planned',
      error: gen.chance(0.3) ? gen.string() : null,
      unchanged: gen.int(5),
      changes: Array.from({length: gen.int(6)}, () =>
        change(actions[gen.int(actions.length)] ?? 'create', gen.string(), {
          keys_added: gen.strings(3),
          keys_changed: gen.strings(2),
          tags_added: gen.strings(2),
          drift: gen.chance(0.3),
          held: gen.chance(0.1),
          error: gen.chance(0.3) ? gen.string() : null,
          ...(gen.chance(0.2) ? {key: gen.string()} : {}),
        }),
      ),
    }),
  )
}

/** The same run with its targets in SettledTargets, added in `settleOrder`. */
function settled(result: SyncRunResult & {targets: TargetSyncResult[]}, options: {budget: number; dir: string}) {
  const targets = new SettledTargets({
    order: result.targets.map((t) => t.name),
    showValues: false,
    budgetBytes: options.budget,
    tmpDir: options.dir,
  })
  // The sync phase settles targets in any order; output keeps the configured one.
  for (const t of [...result.targets].reverse()) targets.add(t)
  return {...result, targets}
}

describe('SettledTargets', () => {
  it('past its budget, keeps the entries in a private temporary file and gives them back in output order', () => {
    // Given 40 targets of hostile text and a budget a few of them fill
    const seed = 1207
    const result = run(hostileTargets(seed, 40))
    const dir = tmp()

    // When they settle in reverse order
    const {targets} = settled(result, {budget: 2000, dir})

    // Then they went to one 0600 file in a 0700 directory, and come back equal, in order, on every pass
    expect(targets.spilled, `seed ${seed}`).toBe(true)
    const [spill] = readdirSync(dir)
    expect(spill).toMatch(/^secretsync-report-/)
    const spillDir = join(dir, spill ?? '')
    expect(statSync(spillDir).mode & 0o777).toBe(0o700)
    expect(readdirSync(spillDir)).toEqual(['targets.jsonl'])
    expect(statSync(join(spillDir, 'targets.jsonl')).mode & 0o777).toBe(0o600)
    expect([...targets], `seed ${seed}`).toEqual(result.targets)
    expect([...targets], `seed ${seed}`).toEqual(result.targets)

    // And closing removes the file and its directory
    targets.close()
    expect(readdirSync(dir)).toEqual([])
  })

  it('under its budget, touches no disk', () => {
    const result = run(hostileTargets(7, 5))
    const dir = tmp()
    const {targets} = settled(result, {budget: 1024 * 1024, dir})
    expect(targets.spilled).toBe(false)
    expect(readdirSync(dir)).toEqual([])
    expect([...targets]).toEqual(result.targets)
  })

  it('a target that settles after close() is dropped: no file is made, nothing is given back', () => {
    // Given settled targets, closed before the last one settles (the run ended on an error), and no budget
    const result = run(hostileTargets(11, 3))
    const dir = tmp()
    const targets = new SettledTargets({
      order: result.targets.map((t) => t.name),
      showValues: false,
      budgetBytes: 0,
      tmpDir: dir,
    })
    targets.add(result.targets[0] as TargetSyncResult)
    targets.close()

    // When another target settles
    targets.add(result.targets[1] as TargetSyncResult)

    // Then no spill file was made for it (only the exit hook would remove one), and it is not kept
    expect(readdirSync(dir)).toEqual([])
    expect(targets.spilled).toBe(false)
    expect(targets.size).toBe(0)
    expect([...targets]).toEqual([])
  })

  it('with --show-values never writes a file, whatever the size: values stay in memory', () => {
    // Given results that carry values and a budget of nothing
    const result = sampleRunWithValues()
    const dir = tmp()
    const targets = new SettledTargets({
      order: result.targets.map((t) => t.name),
      showValues: true,
      budgetBytes: 0,
      tmpDir: dir,
    })

    // When they settle
    for (const t of result.targets) targets.add(t)

    // Then nothing went to disk and the results are the very objects
    expect(targets.spilled).toBe(false)
    expect(readdirSync(dir)).toEqual([])
    expect([...targets][0]).toBe(result.targets[0])
  })
})

describe('printing from settled targets', () => {
  const formats: SyncFormat[] = ['json', 'text', 'compact']
  // `github` fences each target with a fresh random stop-commands token: the same output has other tokens.
  const unfenced = (text: string): string => text.replace(/\b[0-9a-f]{64}\b/g, '<token>')

  it('every format prints the same bytes from spilled targets as from the results themselves', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      // Given a hostile run, once as objects and once spilled
      const result = run(hostileTargets(seed, 12), {
        dry_run: seed % 2 === 0,
        throttling:
          seed % 3 === 0
            ? []
            : [
                {
                  account_id: '111111111111',
                  region: 'us-east-1',
                  write_rate: {configured: 40, final: 20, lowest: 10},
                  calls: 9,
                  throttled: 2,
                  throttled_by_operation: {CreateSecret: 2},
                },
              ],
      })
      const spilled = settled(result, {budget: 500, dir: tmp()})
      expect(spilled.targets.spilled).toBe(true)
      for (const format of formats) {
        // When each is rendered
        const expected = renderSync(result, format, {showValues: false, color: false}).stdout
        const printed = [...renderSync(spilled, format, {showValues: false, color: false}).chunks].join('')

        // Then the bytes are the same
        expect(printed, `seed ${seed} ${format}`).toBe(expected)
      }
      // And the JSON is the contract's: the whole object through the one safe serialiser
      expect(renderSync(spilled, 'json', {showValues: false, color: false}).stdout, `seed ${seed}`).toBe(
        `${stringifyJsonSafely(renderSyncJson(result, {showValues: false}))}\n`,
      )
      spilled.targets.close()
    }
  })

  it('the JSON of a run without targets, or with values, is the whole object serialised', () => {
    for (const result of [run([]), run([], {throttling: []}), sampleRun(), sampleRunWithValues()]) {
      const showValues = result.targets.some((t) => t.changes.some((c) => c.after !== undefined))
      expect(renderSync(result, 'json', {showValues, color: false}).stdout).toBe(
        `${stringifyJsonSafely(renderSyncJson(result, {showValues}))}\n`,
      )
    }
  })

  it('the pipeline output and the JSON report (the Action report-file) from spilled targets are the in-memory ones', async () => {
    for (const seed of [9, 10, 11]) {
      // Given a hostile run, once as objects and once spilled
      const result = run(hostileTargets(seed, 10), {dry_run: seed % 2 === 0})
      const spilled = settled(result, {budget: 300, dir: tmp()})
      expect(spilled.targets.spilled, `seed ${seed}`).toBe(true)
      const inMemory = {kind: 'sync' as const, result, exitCode: 0 as const}
      const fromSpill = {kind: 'sync' as const, result: spilled, exitCode: 0 as const}
      // The oracle for the JSON report: the whole object through the one safe serialiser
      const contract = `${stringifyJsonSafely(renderSyncJson(result, {showValues: false}))}\n`
      for (const format of [...formats, 'github'] as const) {
        for (const diff of [false, true]) {
          // When each is rendered for the pipeline
          const options = {format, showValues: false, diff, env: {}}
          const expected = await renderPipelineOutput(inMemory, options)
          const printed = await renderPipelineOutput(fromSpill, options)

          // Then the spilled run prints what the in-memory one prints, and its JSON report is the contract's
          const what = `seed ${seed} ${format} diff=${diff}`
          expect(unfenced([...printed.chunks].join('')), what).toBe(unfenced([...expected.chunks].join('')))
          expect([...printed.jsonChunks].join(''), what).toBe(contract)
          expect(printed.json, what).toEqual(JSON.parse(contract))
        }
      }
      spilled.targets.close()
    }
  })
})
