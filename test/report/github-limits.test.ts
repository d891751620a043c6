import {describe, expect, it} from 'vitest'
import {ConfigError, UsageError} from '../../src/errors.js'
import {describeFatal} from '../../src/report/fatal-error.js'
import {STEP_SUMMARY_LIMIT_BYTES} from '../../src/report/github-summary.js'
import {renderMergeGithub} from '../../src/report/merge-github.js'
import {maskCommands, renderGithubFailure, renderSyncGithub} from '../../src/report/sync-github.js'
import type {MergeRunResult} from '../../src/pipeline/merge-run.js'
import {change, run, target} from './sync-fixtures.js'

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8')

describe('step summary size (GitHub drops a summary over 1 MiB whole)', () => {
  it('24,000 planned creates: the summary stays under 1 MiB, the counts are complete and a line says what was cut', () => {
    // Given a plan creating 24,000 secrets over 12 targets (2.3 MB of tables uncut)
    const targets = Array.from({length: 12}, (_, t) =>
      target(`account-${t}`, {
        changes: Array.from({length: 2000}, (_, i) =>
          change('create', `team-${t}/service-${i}/database-credentials`, {
            keys_added: ['username', 'password', 'host'],
          }),
        ),
      }),
    )
    const result = run(targets)

    // When it is rendered
    const {summaryMarkdown, outputs} = renderSyncGithub(result, {showValues: false})

    // Then it fits, the counts table holds every create, and the cut line names what is shown and where to see all
    expect(bytes(summaryMarkdown)).toBeLessThan(STEP_SUMMARY_LIMIT_BYTES)
    expect(summaryMarkdown).toContain('| 12 | 0 | 24000 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |')
    const cut = /the tables list (\d+) of 24000 changed or refused secrets and (\d+) of 12 targets in full/.exec(
      summaryMarkdown,
    )
    expect(cut, summaryMarkdown.slice(-600)).not.toBeNull()
    const listedRows = summaryMarkdown.split('\n').filter((line) => line.startsWith('| create |')).length
    expect(Number(cut?.[1])).toBe(listedRows)
    expect(listedRows).toBeGreaterThan(1000)
    expect(listedRows).toBeLessThan(24_000)
    expect(summaryMarkdown.trimEnd().split('\n').at(-1)).toContain("the Action's `report-file` output")
    expect(outputs.created).toBe('24000')
  })

  it('a summary within the budget is not cut', () => {
    // Given a small plan
    const result = run([target('t', {changes: [change('create', 'a')]})])

    // When it is rendered under a budget it fits in
    const {summaryMarkdown} = renderSyncGithub(result, {showValues: false})

    // Then
    expect(summaryMarkdown).not.toContain('Cut to stay under')
    expect(summaryMarkdown).toContain('| create | a |')
  })

  it('a merge-only summary of many targets is cut the same way', () => {
    // Given a merge of 30,000 targets, rendered under a 64 KiB budget
    const result: MergeRunResult = {
      run_id: 'run-1',
      dry_run: false,
      phase: 'merge',
      summary: {sources: 1, failed_sources: 0, targets: 30_000, failed_targets: 0, new_versions: 30_000, unchanged: 0},
      sources: [],
      targets: Array.from({length: 30_000}, (_, i) => ({
        name: `target-${i}`,
        status: 'created' as const,
        secrets: 4,
        version: 2,
        previous_version: 1,
        changes: {added: ['a'], removed: [], changed: []},
        error: null,
      })),
    }

    // When it is rendered
    const github = renderMergeGithub(result, {summaryBudget: 64 * 1024})

    // Then it fits, says what was cut, and the outputs are the merge's counts
    expect(bytes(github.summaryMarkdown)).toBeLessThanOrEqual(64 * 1024)
    expect(github.summaryMarkdown).toMatch(/the table lists \d+ of 30000 targets; the counts above are complete/)
    expect(github.outputs).toEqual({
      'dry-run': 'false',
      sources: '1',
      'failed-sources': '0',
      targets: '30000',
      'failed-targets': '0',
      'new-versions': '30000',
      unchanged: '0',
      'has-changes': 'true',
    })
  })
})

describe('::add-mask:: for shown values', () => {
  it('registers every shown value before the first group, outside any fence; none without showValues', () => {
    // Given an update whose values include a multi-line string and a number
    const result = run([
      target('t', {
        changes: [
          change('update', 'app/db', {
            keys_changed: ['password'],
            keys_added: ['cert', 'port'],
            before: {password: 'old-pw'},
            after: {password: 'new-pw', cert: 'line-1\nline-2', port: 5432},
          }),
        ],
      }),
    ])

    // When it is rendered with and without showValues
    const shown = renderSyncGithub(result, {showValues: true}).stdout.split('\n')
    const hidden = renderSyncGithub(result, {showValues: false}).stdout

    // Then the masks come first: printed forms ("new-pw" with its quotes, the escaped cert), the raw strings and
    // each line of the multi-line one (its whole text has a newline: masked line by line), the number
    const firstOther = shown.findIndex((line) => !line.startsWith('::add-mask::'))
    expect(shown.slice(0, firstOther).sort()).toEqual(
      [
        '::add-mask::"line-1\\nline-2"',
        '::add-mask::line-1',
        '::add-mask::line-2',
        '::add-mask::5432',
        '::add-mask::"old-pw"',
        '::add-mask::old-pw',
        '::add-mask::"new-pw"',
        '::add-mask::new-pw',
      ].sort(),
    )
    expect(shown[firstOther]).toMatch(/^::group::/)
    expect(shown.join('\n')).toContain('~ password: "old-pw" -> "new-pw"')
    expect(hidden).not.toContain('::add-mask::')
  })

  it('masks what each format prints: the diff shows the keys of updates, the JSON report every value', () => {
    // Given a create (the diff names it, without values) and an update of one key
    const result = run([
      target('t', {
        changes: [
          change('create', 'new', {keys_added: ['a'], after: {a: 'VALUE-created'}}),
          change('update', 'db', {
            keys_changed: ['pw'],
            before: {pw: 'VALUE-old', n: 1},
            after: {pw: 'VALUE-new', n: 1},
          }),
        ],
      }),
    ])

    // When the masks are collected for the diff and for the JSON report
    const diff = maskCommands(result, 'diff')
    const json = maskCommands(result, 'json')

    // Then
    expect(diff.sort()).toEqual(
      ['"VALUE-old"', 'VALUE-old', '"VALUE-new"', 'VALUE-new'].map((v) => `::add-mask::${v}`).sort(),
    )
    expect(json.sort()).toEqual(['VALUE-created', 'VALUE-old', 'VALUE-new', '1'].map((v) => `::add-mask::${v}`).sort())
  })

  it('never puts a raw control character or ##[ into a mask line: such a value is masked in its printed form', () => {
    // Given a value holding an escape sequence and a legacy command
    const result = run([
      target('t', {
        changes: [change('update', 'x', {keys_changed: ['k'], before: {k: 'plain'}, after: {k: 'a\u001b[31mb##[x'}})],
      }),
    ])

    // When it is rendered with showValues
    const masks = renderSyncGithub(result, {showValues: true})
      .stdout.split('\n')
      .filter((line) => line.startsWith('::add-mask::'))

    // Then only the printed (escaped) form of that value is registered
    expect(masks.sort()).toEqual(
      ['::add-mask::"a\\u001b[31mb\\u0023#[x"', '::add-mask::"plain"', '::add-mask::plain'].sort(),
    )
  })
})

describe('fatal errors and the mode note', () => {
  it('a config error becomes an ::error:: annotation and a step summary with its problems and hint', () => {
    // Given a config error with two problems
    const error = new ConfigError([
      {file: 'secretsync.yaml', path: 'vault.address', message: 'required'},
      {file: 'secretsync.yaml', path: 'targets[0].name', message: 'must be a string'},
    ])

    // When it is rendered
    const github = renderGithubFailure(describeFatal(error), 'Plan (dry run): the dry-run input is true.')

    // Then the annotation is one command line, and the summary names the code, the problems, the note
    const lines = github.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^::error title=secretsync failed \(exit 2\)::CONFIG_INVALID: .*vault\.address.*%0A/)
    expect(github.summaryMarkdown).toContain('## secretsync failed (exit 2)')
    expect(github.summaryMarkdown).toContain('Plan (dry run): the dry-run input is true.')
    expect(github.summaryMarkdown).toContain('\n- secretsync.yaml: vault.address: required\n')
    expect(github.summaryMarkdown).toContain('\n- secretsync.yaml: targets\\[0\\].name: must be a string\n')
  })

  it('a usage error keeps its hint', () => {
    const github = renderGithubFailure(describeFatal(new UsageError('bad', {hint: 'do this'})))
    expect(github.summaryMarkdown).toContain('**Hint:** do this')
    expect(github.stdout).toContain('%0AHint: do this')
  })

  it('the note why the run plans or applies is a notice in the log and a line of the summary', () => {
    const github = renderSyncGithub(run([target('t')]), {showValues: false, note: 'Apply: the dry-run input is false.'})
    expect(github.stdout.split('\n')[0]).toBe('::notice title=secretsync mode::Apply: the dry-run input is false.')
    expect(github.summaryMarkdown.split('\n\n')[1]).toBe('Apply: the dry-run input is false.')
  })
})
