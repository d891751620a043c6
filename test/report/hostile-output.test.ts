import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {renderErrorMessage} from '../../src/cli/base-command.js'
import type {DiscoverResult} from '../../src/pipeline/run-discover.js'
import type {MergeRunResult} from '../../src/pipeline/merge-run.js'
import {ConfigError, SecretSyncError} from '../../src/errors.js'
import {createLogger, type LogFormat} from '../../src/observability/logger.js'
import {Redactor} from '../../src/observability/redact.js'
import {renderDiscoverText} from '../../src/report/discover-report.js'
import {renderGraph, type GraphResult} from '../../src/report/graph.js'
import {renderVersionList, renderVersionShow} from '../../src/report/history.js'
import {renderMergeText} from '../../src/report/merge-report.js'
import {renderPipelineOutput} from '../../src/report/render-pipeline.js'
import {renderSync} from '../../src/report/render-sync.js'
import {renderSyncGithub} from '../../src/report/sync-github.js'
import {renderSyncJson} from '../../src/report/sync-json.js'
import type {SecretChange, SyncRunResult, TargetSyncResult} from '../../src/sync/types.js'
import {escapeUntrusted} from '../../src/util/untrusted-text.js'
import {renderValidateText, type ValidateResult} from '../../src/validate.js'
import {HostileText} from '../support/hostile-text.js'
import {githubProblems, leaks, lineProblems, type Problems} from '../support/output-oracle.js'
import {change, run, target} from './sync-fixtures.js'

// Every printer gets hostile names, keys, values and error texts from a seeded generator, and an oracle checks what
// comes out: no raw control or format character in any line, no line that the Actions runner would read as a
// command unless it is one of ours, no `##[` anywhere, JSON that parses back to the exact strings, and values only
// with --show-values. Set HOSTILE_SEEDS / HOSTILE_SEED to run more seeds or replay one.

const SEEDS = Number(process.env.HOSTILE_SEEDS ?? 200)
const FIRST_SEED = Number(process.env.HOSTILE_SEED ?? 1)
const seeds = Array.from({length: SEEDS}, (_, i) => FIRST_SEED + i)

/** A sync run of one to three targets, every name, key, error and value hostile; values carry unique markers. */
function hostileRun(seed: number): {result: SyncRunResult & {targets: TargetSyncResult[]}; markers: string[]} {
  const gen = new HostileText(seed)
  const markers: string[] = []
  const value = (): string => {
    const marker = `VALUE${seed}X${markers.length}`
    markers.push(marker)
    return `${gen.string()}${marker}${gen.string()}`
  }
  const actions: SecretChange['action'][] = ['create', 'update', 'restore', 'delete', 'conflict']
  const targets = Array.from({length: 1 + gen.int(3)}, () => {
    const changes = Array.from({length: gen.int(5)}, () => {
      const keys = {keys_added: gen.strings(2), keys_removed: gen.strings(2), keys_changed: gen.strings(3)}
      const before = Object.fromEntries([...keys.keys_removed, ...keys.keys_changed].map((key) => [key, value()]))
      const after = Object.fromEntries([...keys.keys_added, ...keys.keys_changed].map((key) => [key, value()]))
      const action = gen.pick(actions)
      return change(action, gen.string(), {
        path: gen.string(),
        drift: gen.chance(0.3),
        ...keys,
        tags_added: gen.strings(1),
        tags_changed: gen.strings(1),
        tags_removed: gen.strings(1),
        held: action === 'delete' && gen.chance(0.5),
        error: action === 'conflict' || gen.chance(0.4) ? gen.string() : null,
        before,
        after,
      })
    })
    const failed = gen.chance(0.25)
    return target(gen.string(), {
      account_id: gen.chance(0.2) ? null : gen.string(),
      region: gen.string(),
      status: failed ? 'failed' : gen.pick(['planned', 'applied', 'skipped'] as const),
      snapshot_version: gen.chance(0.3) ? null : gen.int(50),
      error: failed || gen.chance(0.2) ? gen.string() : null,
      changes,
      unchanged: gen.int(3),
    })
  })
  return {result: run(targets, {run_id: gen.string(), dry_run: gen.chance(0.5)}), markers}
}

/** Replays every seed and reports the first problems found, each naming its seed. */
function forEverySeed(check: (seed: number) => Problems | Promise<Problems>): Promise<void> | void {
  const found: string[] = []
  const report = (): void => {
    expect(found.slice(0, 8), `${found.length} problems; replay with HOSTILE_SEED=<seed> HOSTILE_SEEDS=1`).toEqual([])
  }
  const results = seeds.map((seed) => ({seed, problems: check(seed)}))
  const collect = (seed: number, problems: Problems): void => {
    for (const problem of problems) found.push(`seed ${seed}: ${problem}`)
  }
  if (results.some((r) => r.problems instanceof Promise)) {
    return Promise.all(results.map(async (r) => collect(r.seed, await r.problems))).then(report)
  }
  for (const r of results) collect(r.seed, r.problems as Problems)
  report()
}

describe(`hostile text through every printer (${SEEDS} seeds from ${FIRST_SEED})`, () => {
  it('-o text: no raw control character or command in any line, with and without colour; names shown escaped', () => {
    forEverySeed((seed) => {
      const {result, markers} = hostileRun(seed)
      const problems: Problems = []
      for (const color of [false, true]) {
        const text = renderSync(result, 'text', {showValues: false, color}).stdout
        problems.push(...lineProblems(`text color=${color}`, text, {colours: color}), ...leaks('text', text, markers))
        // Escaped visibly, never dropped: each secret name is there in its escaped form
        for (const c of result.targets.flatMap((t) => t.changes)) {
          if (!text.includes(escapeUntrusted(c.name)))
            problems.push(`text color=${color}: name ${JSON.stringify(c.name.slice(0, 60))} not shown escaped`)
        }
      }
      const shown = renderSync(result, 'text', {showValues: true, color: false}).stdout
      problems.push(...lineProblems('text --show-values', shown))
      const shownKeys = result.targets
        .flatMap((t) => t.changes)
        .filter((c) => c.action === 'update' || c.action === 'restore')
      for (const c of shownKeys) {
        for (const key of c.keys_changed) {
          for (const marker of markers.filter((m) => JSON.stringify(c.after?.[key]).includes(m))) {
            if (!shown.includes(marker)) problems.push(`text --show-values: value ${marker} of an update is missing`)
          }
        }
      }
      return problems
    })
  })

  it('-o text when applying without --diff (the one-line-per-target summary)', async () => {
    await forEverySeed(async (seed) => {
      const {result, markers} = hostileRun(seed)
      const applied = {...result, dry_run: false}
      const {stdout} = await renderPipelineOutput(
        {kind: 'sync', result: applied, exitCode: 0},
        {format: 'text', showValues: false, diff: false, env: {}, isTTY: false},
      )
      return [...lineProblems('applied summary', stdout), ...leaks('applied summary', stdout, markers)]
    })
  })

  it('-o compact: one safe line', () => {
    forEverySeed((seed) => {
      const {stdout} = renderSync(hostileRun(seed).result, 'compact', {showValues: false, color: false})
      return [...lineProblems('compact', stdout), ...(stdout.split('\n').length === 2 ? [] : ['compact: not one line'])]
    })
  })

  it('-o json: parses back to the exact strings, holds no ##[ or raw C1/bidi character, values only with --show-values', () => {
    forEverySeed((seed) => {
      const {result, markers} = hostileRun(seed)
      const problems: Problems = []
      for (const showValues of [false, true]) {
        const {stdout} = renderSync(result, 'json', {showValues, color: false})
        problems.push(...lineProblems(`json showValues=${showValues}`, stdout))
        if (!showValues) problems.push(...leaks('json', stdout, markers))
        const parsed = JSON.parse(stdout) as ReturnType<typeof renderSyncJson>
        try {
          expect(parsed).toEqual(renderSyncJson(result, {showValues}))
          expect(parsed.run_id).toBe(result.run_id)
          parsed.targets.forEach((t, i) => {
            const original = result.targets[i]
            expect([t.name, t.account_id, t.region, t.error]).toEqual([
              original?.name,
              original?.account_id,
              original?.region,
              original?.error,
            ])
            t.changes.forEach((c, j) => {
              const o = original?.changes[j]
              expect([c.name, c.path, c.error, c.keys_added, c.keys_removed, c.keys_changed]).toEqual([
                o?.name,
                o?.path,
                o?.error,
                o?.keys_added,
                o?.keys_removed,
                o?.keys_changed,
              ])
              if (showValues) expect([c.before, c.after]).toEqual([o?.before, o?.after])
            })
          })
        } catch (error) {
          problems.push(`json showValues=${showValues}: does not round-trip: ${(error as Error).message.slice(0, 300)}`)
        }
      }
      return problems
    })
  })

  it('-o github: only our commands, bodies fenced with a random token, values only inside the fence', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'secretsync-hostile-'))
    try {
      await forEverySeed(async (seed) => {
        const {result, markers} = hostileRun(seed)
        const problems: Problems = []
        for (const showValues of [false, true]) {
          const env = {
            GITHUB_STEP_SUMMARY: join(dir, `summary-${seed}-${showValues}.md`),
            GITHUB_OUTPUT: join(dir, `output-${seed}-${showValues}`),
          }
          const {stdout} = await renderPipelineOutput(
            {kind: 'sync', result, exitCode: 0},
            {format: 'github', showValues, diff: false, env, isTTY: false},
          )
          problems.push(...githubProblems(`github showValues=${showValues}`, stdout, markers))
          if (!showValues) problems.push(...leaks('github', stdout, markers))
          const summary = await readFile(env.GITHUB_STEP_SUMMARY, 'utf8')
          problems.push(
            ...lineProblems('step summary', summary),
            ...leaks('step summary (never holds values)', summary, markers),
          )
          // Every row of a change table splits into as many cells as its header on unescaped pipes
          const cellsOf = (row: string): number => row.replace(/\\./g, 'x').split('|').slice(1, -1).length
          const columns = cellsOf(summary.split('\n').find((line) => line.startsWith('| action |')) ?? '')
          for (const row of summary
            .split('\n')
            .filter((line) => /^\| (create|update|restore|delete|conflict)( \(held\))? \|/.test(line))) {
            if (cellsOf(row) !== columns)
              problems.push(`step summary: a row with ${cellsOf(row)} cells, not ${columns}: ${row.slice(0, 120)}`)
          }
          const output = await readFile(env.GITHUB_OUTPUT, 'utf8')
          for (const line of output.replace(/\n$/, '').split('\n')) {
            if (!/^[a-z_-]+=(?:\d+|true|false)$/.test(line))
              problems.push(`GITHUB_OUTPUT: unexpected line ${JSON.stringify(line)}`)
          }
        }
        return problems
      })
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  it('-o github with --show-values: the values are really there (inside the fence), so the fence check means something', () => {
    forEverySeed((seed) => {
      const {result, markers} = hostileRun(seed)
      const {stdout} = renderSyncGithub(result, {showValues: true})
      const hidden = renderSyncGithub(result, {showValues: false}).stdout
      const shown = markers.filter((marker) => stdout.includes(marker))
      const expectShown = result.targets.some((t) =>
        t.changes.some((c) => (c.action === 'update' || c.action === 'restore') && c.keys_changed.length > 0),
      )
      return [
        ...(expectShown && shown.length === 0 ? ['github --show-values: no value shown at all'] : []),
        ...leaks('github', hidden, markers),
      ]
    })
  })

  it('--merge-only text and JSON', async () => {
    await forEverySeed(async (seed) => {
      const gen = new HostileText(seed)
      const result: MergeRunResult = {
        run_id: gen.string(),
        dry_run: gen.chance(0.5),
        phase: 'merge',
        summary: {sources: 2, failed_sources: 1, targets: 3, failed_targets: 1, new_versions: 1, unchanged: 1},
        sources: [
          {
            name: gen.string(),
            mount: gen.string(),
            status: 'ok',
            secrets: gen.int(9),
            folders: gen.int(3),
            warnings: gen.strings(2),
            error: null,
            complete: false,
            skipped: {deleted: 0, forbidden: 1, not_found: 0, max_depth: 0, unsafe_key: 0},
            skipped_items: [{kind: 'secret', path: gen.string(), reason: 'forbidden'}],
          },
          {
            name: gen.string(),
            mount: gen.string(),
            status: 'failed',
            secrets: 0,
            folders: 0,
            warnings: [],
            error: gen.string(),
            complete: false,
            skipped: {deleted: 0, forbidden: 1, not_found: 0, max_depth: 0, unsafe_key: 0},
            skipped_items: [],
          },
        ],
        targets: (['failed', 'unchanged', 'planned', 'created', 'merged'] as const).map((status) => ({
          name: gen.string(),
          status,
          secrets: gen.int(9),
          version: gen.int(9),
          previous_version: gen.chance(0.5) ? gen.int(9) : null,
          changes: {added: gen.strings(2), removed: gen.strings(2), changed: gen.strings(2)},
          error: status === 'failed' ? gen.string() : null,
        })) as MergeRunResult['targets'],
      }
      const text = renderMergeText(result)
      const json = await renderPipelineOutput(
        {kind: 'merge', result, exitCode: 0},
        {format: 'json', showValues: false, diff: false, env: {}},
      )
      const problems = [...lineProblems('merge text', text), ...lineProblems('merge json', json.stdout)]
      if (JSON.stringify(JSON.parse(json.stdout)) !== JSON.stringify(result))
        problems.push('merge json: does not round-trip')
      for (const t of result.targets)
        if (!text.includes(escapeUntrusted(t.name))) problems.push('merge text: a target name is not shown escaped')
      return problems
    })
  })

  it('version list and version show', () => {
    forEverySeed((seed) => {
      const gen = new HostileText(seed)
      const versions = Array.from({length: 1 + gen.int(3)}, (_, i) => ({
        version: i + 1,
        created_at: gen.string(),
        run_id: gen.string(),
        secrets: gen.int(5),
        latest: i === 0,
        change: gen.pick(['added', 'changed', 'removed'] as const),
        // A corrupt snapshot's entry carries its (untrusted) error text instead.
        error: gen.chance(0.2) ? gen.string() : null,
      }))
      const list = renderVersionList({target: gen.string(), path: gen.chance(0.5) ? gen.string() : null, versions})
      const secrets = Object.fromEntries(
        gen
          .strings(3)
          .map((path) => [
            path,
            Object.fromEntries(
              gen.strings(3).map((key) => [key, gen.chance(0.5) ? gen.string() : {nested: gen.string()}]),
            ),
          ]),
      )
      const show = renderVersionShow({
        target: gen.string(),
        version: 1,
        created_at: gen.string(),
        run_id: gen.string(),
        sources: gen.strings(2),
        secrets,
      })
      return [...lineProblems('version list', list), ...lineProblems('version show', show)]
    })
  })

  it('discover', () => {
    forEverySeed((seed) => {
      const gen = new HostileText(seed)
      const accounts = Array.from({length: gen.int(4)}, () => ({
        account_id: gen.string(),
        account_name: gen.string(),
        status: gen.string(),
        ou_id: gen.string(),
        tags: {[gen.string()]: gen.string()},
        included: gen.chance(0.5),
        reasons: gen.strings(2),
        target: gen.chance(0.5) ? gen.string() : null,
        error: gen.chance(0.5) ? gen.string() : null,
      }))
      const result: DiscoverResult = {
        report: {
          summary: {
            blocks: 1,
            disabled: 0,
            failed_blocks: 1,
            accounts: accounts.length,
            included: 0,
            excluded: 0,
            targets: 0,
            account_errors: 0,
          },
          blocks: [
            {
              name: gen.string(),
              type: 'aws_organizations',
              status: 'failed',
              cache: 'miss',
              discovered_at: gen.string(),
              error: {code: 'X', message: gen.string(), hint: gen.string()},
              accounts,
            },
          ],
        },
        targets: gen.strings(3).map((name) => ({
          name,
          discovered: gen.chance(0.5),
          account_id: gen.string(),
          region: gen.string(),
          imports: gen.strings(2),
        })),
      }
      return lineProblems('discover', renderDiscoverText(result))
    })
  })

  it('graph in text, dot and mermaid', () => {
    forEverySeed((seed) => {
      const gen = new HostileText(seed)
      const result: GraphResult = {
        sources: gen.strings(3),
        levels: [
          gen.strings(3).map((name) => ({name, imports: gen.strings(2)})),
          gen.strings(2).map((name) => ({name, imports: gen.strings(2)})),
        ],
      }
      return (['text', 'dot', 'mermaid'] as const).flatMap((format) =>
        lineProblems(`graph ${format}`, renderGraph(result, format)),
      )
    })
  })

  it('validate (names, warnings and --check-access details)', () => {
    forEverySeed((seed) => {
      const gen = new HostileText(seed)
      const result: ValidateResult = {
        valid: true,
        config: gen.string(),
        sources: gen.strings(2).map((name) => ({name, mount: gen.string(), max_secrets: 1})),
        targets: [],
        levels: 1,
        discovery: gen.strings(2).map((name) => ({name, type: gen.string(), enabled: gen.chance(0.5)})),
        merge_store: {bucket: gen.string(), prefix: gen.string()},
        warnings: gen.strings(2),
        access: gen.strings(2).map((name) => ({kind: 'target', name, ok: gen.chance(0.5), detail: gen.string()})),
      }
      return lineProblems('validate', renderValidateText(result))
    })
  })

  it('error messages at the CLI boundary: one escaped line per message, config problems one per line', () => {
    forEverySeed((seed) => {
      const gen = new HostileText(seed)
      const problems: Problems = []
      const single = renderErrorMessage(
        new SecretSyncError('SYNC_FAILED', `secret ${gen.string()} failed: ${gen.string()}`),
      )
      problems.push(
        ...lineProblems('error', `Error: ${single}`),
        ...(single.includes('\n') ? ['error: a one-line message printed on several lines'] : []),
      )
      const issues = gen.strings(3).map((path) => ({file: gen.string(), line: 1, path, message: gen.string()}))
      problems.push(
        ...lineProblems(
          'config error',
          `Error: ${renderErrorMessage(new ConfigError(issues.length > 0 ? issues : [{file: 'f', path: gen.string(), message: 'x'}]))}`,
        ),
      )
      problems.push(
        ...lineProblems(
          'usage error',
          `Error: ${renderErrorMessage(new Error(`Nonexistent flag: ${gen.string()}\nSee more help with --help`), true)}`,
        ),
      )
      return problems
    })
  })

  it('--log-format text and json: no raw control character or command; JSON lines keep the exact (redacted) text', async () => {
    await forEverySeed(async (seed) => {
      const gen = new HostileText(seed)
      const secret = `SECRET${seed}VALUE`
      const problems: Problems = []
      for (const format of ['text', 'json'] as LogFormat[]) {
        const stream = new PassThrough()
        const chunks: string[] = []
        stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')))
        const redactor = new Redactor()
        redactor.add(secret)
        const logger = createLogger({level: 'debug', format, redactor, runId: gen.string(), stream})
        const message = `${gen.string()} ${secret} ${gen.string()}`
        const meta = {
          target: gen.string(),
          path: gen.string(),
          error: new Error(gen.string()),
          count: gen.int(9),
          nested: {[gen.string()]: gen.string()},
        }
        logger.warn(message, meta)
        logger.info(gen.string())
        await new Promise((resolve) => setImmediate(resolve))
        const text = chunks.join('')
        problems.push(
          ...lineProblems(`log ${format}`, text.replace(/\n$/, '')),
          ...leaks(`log ${format}`, text, [secret]),
        )
        const lines = text.replace(/\n$/, '').split('\n')
        if (lines.length !== 2) problems.push(`log ${format}: ${lines.length} lines for 2 entries`)
        if (format === 'json') {
          const first = JSON.parse(lines[0] ?? '{}') as {message?: string; target?: string; path?: string}
          if (first.message !== message.split(secret).join('[REDACTED]'))
            problems.push('log json: message does not round-trip')
          if (first.target !== meta.target || first.path !== meta.path)
            problems.push('log json: fields do not round-trip')
        }
      }
      return problems
    })
  })
})
