import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {renderSyncGithub, writeGithubFiles} from '../../src/report/sync-github.js'
import {escapeCommandData, escapeCommandProperty} from '../../src/util/untrusted-text.js'
import {change, run, sampleRun, sampleRunWithValues, target} from './sync-fixtures.js'

const masked = {showValues: false}

// The stop-commands token is random per rendering; the tests name it instead of pinning it.
const STOP = /^::stop-commands::([0-9a-f]{64})$/
const withTokens = (stdout: string): string => stdout.replace(/[0-9a-f]{64}/g, '<token>')

describe('renderSyncGithub: log', () => {
  it('prints a fenced group per target, then annotations, then the plan as a notice', () => {
    // Given the sample dry run
    const result = sampleRun()

    // When it is rendered for GitHub Actions
    const {stdout} = renderSyncGithub(result, masked)

    // Then
    expect(withTokens(stdout)).toBe(
      [
        '::group::target prod-us (111111111111 / us-east-1) — planned snapshot v3',
        '::stop-commands::<token>',
        '  + app/new',
        '  ~ app/db (drift)',
        '    + port',
        '    - legacy',
        '    ~ password',
        '  ? app/legacy — conflict: exists without tag managed-by=secretsync; use --adopt',
        '  (40 unchanged)',
        '::<token>::',
        '::endgroup::',
        '::group::target staging (base identity / us-west-2) — failed',
        '::stop-commands::<token>',
        '  error: AssumeRole denied',
        '::<token>::',
        '::endgroup::',
        '::warning title=secretsync drift::prod-us: app/db was changed outside secretsync; applying overwrites it',
        '::warning title=secretsync conflict::prod-us: app/legacy: exists without tag managed-by=secretsync; use --adopt',
        '::error title=secretsync::staging: AssumeRole denied',
        '::notice title=secretsync::Plan: 1 to create, 1 to update, 0 to restore, 0 to delete, 40 unchanged, 1 conflict, 1 drifted, 0 failed; 1 of 2 targets failed',
        '',
      ].join('\n'),
    )
  })

  it('fences outside text with a token it cannot contain, and resumes commands with the same token', () => {
    // Given a key name and an error crafted as workflow commands
    const result = run([
      target('t', {
        changes: [change('update', 'app/x', {keys_changed: ['##[add-mask]x', ':: not at start']})],
        error: '::error::forged',
      }),
    ])

    // When it is rendered
    const lines = renderSyncGithub(result, masked).stdout.split('\n')

    // Then the body sits between stop-commands and the matching resume line, does not hold the token, and shows
    // the would-be commands with their first character escaped
    const start = lines.findIndex((line) => STOP.test(line))
    const token = STOP.exec(lines[start] ?? '')?.[1] ?? 'missing'
    const end = lines.indexOf(`::${token}::`)
    expect(start).toBeGreaterThan(0)
    expect(end).toBeGreaterThan(start)
    const body = lines.slice(start + 1, end)
    expect(body).toContain('    ~ \\u0023#[add-mask]x')
    expect(body).toContain('  error: \\u003a:error::forged')
    expect(body.join('\n')).not.toContain(token)
  })

  it('draws a fresh random token for every rendering, so nothing in the data can predict it', () => {
    // Given one run rendered twice
    const result = sampleRun()

    // When the tokens of both renderings are collected
    const tokens = (stdout: string): string[] => stdout.split('\n').flatMap((line) => STOP.exec(line)?.[1] ?? [])
    const first = tokens(renderSyncGithub(result, masked).stdout)
    const second = tokens(renderSyncGithub(result, masked).stdout)

    // Then every group has its own token and no token repeats across renderings
    expect(first).toHaveLength(2)
    expect(new Set([...first, ...second]).size).toBe(4)
  })

  it('escapes annotation messages so a multi-line error stays one command', () => {
    // Given a failed target whose error has a newline, a carriage return and a percent sign
    const result = run([target('t', {status: 'failed', error: '100% denied\r\nsee docs'})])

    // When it is rendered
    const {stdout} = renderSyncGithub(result, masked)

    // Then the annotation carries the message on one line: CR and LF shown as escapes, % escaped for the runner
    expect(stdout).toContain('\n::error title=secretsync::t: 100%25 denied\\r\\nsee docs\n')
  })

  it('reports a failed secret as an error and a drift that failed to apply without claiming it was overwritten', () => {
    // Given an applied run where a drifted update failed
    const result = run(
      [target('t', {status: 'applied', changes: [change('update', 'app/db', {drift: true, error: 'throttled'})]})],
      {dry_run: false},
    )

    // When it is rendered
    const {stdout} = renderSyncGithub(result, masked)

    // Then
    expect(stdout).toContain('::error title=secretsync::t: app/db: throttled\n')
    expect(stdout).toContain('::warning title=secretsync drift::t: app/db was changed outside secretsync\n')
  })

  it('shows values in the log only with showValues', () => {
    // Given changes with values
    const result = sampleRunWithValues()

    // When it is rendered with and without showValues
    const hidden = renderSyncGithub(result, masked)
    const shown = renderSyncGithub(result, {showValues: true})

    // Then only the showValues log has them, and the step summary never does
    expect(hidden.stdout).not.toContain('VALUE-')
    expect(shown.stdout).toContain('~ password: "VALUE-old-password" -> "VALUE-new-password"')
    expect(shown.summaryMarkdown).not.toContain('VALUE-')
  })
})

describe('escapeCommandData / escapeCommandProperty', () => {
  it('escape per the runner rules: % first, then CR and LF; properties also : and ,', () => {
    // Given text holding every special character
    const text = 'a%b\rc\nd:e,f'

    // When it is escaped as message and as property
    // Then
    expect(escapeCommandData(text)).toBe('a%25b%0Dc%0Ad:e,f')
    expect(escapeCommandProperty(text)).toBe('a%25b%0Dc%0Ad%3Ae%2Cf')
  })
})

describe('renderSyncGithub: step summary and outputs', () => {
  it('writes a heading, a table of counts and a table of changes per target', () => {
    // Given the sample dry run
    const result = sampleRun()

    // When it is rendered
    const {summaryMarkdown} = renderSyncGithub(result, masked)

    // Then
    expect(summaryMarkdown).toBe(
      [
        '## secretsync plan (dry run, nothing written)',
        '',
        'Run run-1: Plan: 1 to create, 1 to update, 0 to restore, 0 to delete, 40 unchanged, 1 conflict, 1 drifted, 0 failed; 1 of 2 targets failed',
        '',
        '| targets | failed targets | created | updated | restored | deleted | unchanged | conflicts | drifted | failed | held |',
        '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
        '| 2 | 1 | 1 | 1 | 0 | 0 | 40 | 1 | 1 | 0 | 0 |',
        '',
        '### target prod-us (111111111111 / us-east-1) — planned snapshot v3',
        '',
        '| action | secret | keys added | keys removed | keys changed | metadata | drift | error |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
        '| create | app/new | url |  |  |  | no |  |',
        '| update | app/db | port | legacy | password |  | yes |  |',
        '| conflict | app/legacy |  |  |  |  | no | exists without tag managed-by=secretsync; use --adopt |',
        '',
        '40 unchanged',
        '',
        '### target staging (base identity / us-west-2) — failed',
        '',
        '**error:** AssumeRole denied',
        '',
      ].join('\n'),
    )
  })

  it('escapes pipes and markup in cells so every row keeps eight columns', () => {
    // Given key names and an error holding pipes, a backslash before a pipe, and markup
    const result = run([
      target('t', {
        changes: [change('update', 'app/x', {keys_changed: ['a|b', 'c\\|d'], error: '<b>bold</b> *x*'})],
      }),
    ])

    // When it is rendered
    const rows = renderSyncGithub(result, masked)
      .summaryMarkdown.split('\n')
      .filter((l) => l.startsWith('| update'))

    // Then the cells are escaped and the row splits into exactly seven cells on unescaped pipes
    expect(rows).toEqual(['| update | app/x |  |  | a\\|b, c\\\\\\|d |  | no | \\<b\\>bold\\</b\\> \\*x\\* |'])
    const cells = (rows[0] ?? '').replace(/\\./g, 'x').split('|').slice(1, -1)
    expect(cells).toHaveLength(8)
  })

  it('gives the counts as kebab-case outputs (with the old snake_case aliases), and has-changes only when something is written', () => {
    // Given the sample (a create and an update) and a run with only conflicts and unchanged secrets
    const changed = renderSyncGithub(sampleRun(), masked).outputs
    const quiet = renderSyncGithub(
      run([target('t', {unchanged: 3, changes: [change('conflict', 'a', {error: 'foreign'})]})]),
      masked,
    ).outputs

    // Then
    expect(changed).toEqual({
      'dry-run': 'true',
      created: '1',
      updated: '1',
      restored: '0',
      deleted: '0',
      unchanged: '40',
      conflicts: '1',
      drifted: '1',
      failed: '0',
      held: '0',
      skipped: '0',
      policies: '0',
      'failed-targets': '1',
      'has-changes': 'true',
      // the 0.1 names, kept as aliases
      failed_targets: '1',
      has_changes: 'true',
    })
    expect(quiet['has-changes']).toBe('false')
    expect(quiet.has_changes).toBe('false')
    expect(quiet.conflicts).toBe('1')
  })
})

describe('writeGithubFiles', () => {
  let dir = ''
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secretsync-gh-'))
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('appends the summary and key=value outputs to the files GitHub names', async () => {
    // Given step files that earlier steps already wrote to
    const summaryFile = join(dir, 'summary.md')
    const outputFile = join(dir, 'output')
    await writeFile(summaryFile, '# earlier step\n')
    await writeFile(outputFile, 'earlier=1\n')

    // When the rendered sample is written
    const rendered = renderSyncGithub(sampleRun(), masked)
    await writeGithubFiles(rendered, {GITHUB_STEP_SUMMARY: summaryFile, GITHUB_OUTPUT: outputFile})

    // Then both files keep what was there and gain ours
    expect(await readFile(summaryFile, 'utf8')).toBe(`# earlier step\n${rendered.summaryMarkdown}`)
    const output = await readFile(outputFile, 'utf8')
    expect(output.startsWith('earlier=1\ndry-run=true\ncreated=1\nupdated=1\n')).toBe(true)
    expect(output.endsWith('failed_targets=1\nhas_changes=true\n')).toBe(true)
  })

  it('uses the heredoc form for a multi-line value', async () => {
    // Given an output whose value spans lines
    const outputFile = join(dir, 'output')

    // When it is written
    await writeGithubFiles({summaryMarkdown: '', outputs: {notes: 'one\ntwo', n: '1'}}, {GITHUB_OUTPUT: outputFile})

    // Then the value sits between a delimiter line pair, and the next output follows as key=value
    const output = await readFile(outputFile, 'utf8')
    const match = /^notes<<(\S+)\none\ntwo\n(\S+)\nn=1\n$/.exec(output)
    expect(match?.[1]).toMatch(/^ghadelimiter_/)
    expect(match?.[2]).toBe(match?.[1])
  })

  it('writes nothing when the variables are unset or empty', async () => {
    // Given no GitHub variables (a run outside Actions)
    const rendered = renderSyncGithub(sampleRun(), masked)

    // When the files are written
    await writeGithubFiles(rendered, {GITHUB_STEP_SUMMARY: '', HOME: dir})

    // Then no file was created
    expect(await readdir(dir)).toEqual([])
  })

  it('refuses an output name GitHub would misread', async () => {
    // Given an output name holding "="
    const outputFile = join(dir, 'output')

    // When / Then writing it fails, naming it
    await expect(
      writeGithubFiles({summaryMarkdown: '', outputs: {'a=b': '1'}}, {GITHUB_OUTPUT: outputFile}),
    ).rejects.toThrow('invalid GitHub output name: "a=b"')
  })
})
