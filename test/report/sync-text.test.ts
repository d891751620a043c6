import {describe, expect, it} from 'vitest'
import {renderSyncText} from '../../src/report/sync-text.js'
import {change, run, sampleRun, sampleRunWithValues, target} from './sync-fixtures.js'

const plain = {showValues: false, color: false}
const stripAnsi = (text: string): string => text.replace(new RegExp(String.raw`\u001b\[\d+m`, 'g'), '')

describe('renderSyncText', () => {
  it('groups changes per target, lists key names under updates and ends with the plan line', () => {
    // Given a dry run: a create, a drifted update with key changes, a conflict, 40 unchanged, and a failed target
    const result = sampleRun()

    // When it is rendered for a pipe
    const text = renderSyncText(result, plain)

    // Then each target has its heading, its changes and its counts, and the plan sums it up
    expect(text).toBe(
      [
        'target prod-us (111111111111 / us-east-1) — planned snapshot v3',
        '  + app/new',
        '  ~ app/db (drift)',
        '    + port',
        '    - legacy',
        '    ~ password',
        '  ? app/legacy — conflict: exists without tag managed-by=secretsync; use --adopt',
        '  (40 unchanged)',
        'target staging (base identity / us-west-2) — failed',
        '  error: AssumeRole denied',
        'Plan: 1 to create, 1 to update, 0 to restore, 0 to delete, 40 unchanged, 1 conflict, 1 drifted, 0 failed; 1 of 2 targets failed',
        '',
      ].join('\n'),
    )
  })

  it('shows metadata changes under an update and held deletions with their reason, and counts them in the summary', () => {
    // Given an applied run: a metadata-only update and a deletion held by the run-wide budget
    const reason =
      'held: the run would delete 30 orphaned secrets, more than sync.max_deletions (25); no secret was deleted'
    const result = run(
      [
        target('t', {
          status: 'applied',
          error:
            '1 orphan deletion held, nothing deleted: the run would delete 30 orphaned secrets, more than sync.max_deletions (25); no secret was deleted',
          changes: [
            change('update', 'app/db', {
              tags_added: ['env'],
              tags_changed: ['team'],
              tags_removed: ['old'],
              kms_key_changed: true,
              description_changed: true,
            }),
            change('delete', 'app/gone', {held: true, error: reason}),
          ],
        }),
      ],
      {dry_run: false},
    )

    // When it is rendered
    const text = renderSyncText(result, plain)

    // Then
    expect(text).toContain(
      '  ~ app/db\n    + tag env\n    ~ tag team\n    - tag old\n    ~ kms key\n    ~ description\n',
    )
    expect(text).toContain(`  - app/gone (held) — ${reason}\n`)
    expect(text).toContain('  error: 1 orphan deletion held, nothing deleted')
    expect(text).toContain(
      'Applied: 0 created, 1 updated, 0 restored, 0 deleted, 0 unchanged, 0 conflicts, 0 drifted, 1 failed (1 deletion held)',
    )
  })

  it('masks values unless showValues, even when the plan carries them', () => {
    // Given changes that carry before/after values
    const result = sampleRunWithValues()

    // When it is rendered without showValues
    const text = renderSyncText(result, plain)

    // Then key names are there, values are not (not even the non-string ones)
    expect(text).toContain('  ~ app/db (drift)\n    + port\n    - legacy\n    ~ password\n')
    expect(text).not.toContain('VALUE-')
  })

  it('with showValues prints values as JSON next to each key', () => {
    // Given an update with before and after values
    const result = sampleRunWithValues()

    // When it is rendered with showValues
    const text = renderSyncText(result, {showValues: true, color: false})

    // Then added, removed and changed keys show their values; unchanged keys do not appear
    expect(text).toContain('    + port: 5432\n')
    expect(text).toContain('    - legacy: true\n')
    expect(text).toContain('    ~ password: "VALUE-old-password" -> "VALUE-new-password"\n')
    expect(text).not.toContain('VALUE-host')
  })

  it('says Applied instead of Plan after a real run, and pluralises conflicts', () => {
    // Given an applied run with two conflicts and no failed target
    const result = run(
      [
        target('t', {
          status: 'applied',
          changes: [change('conflict', 'a', {error: 'foreign'}), change('conflict', 'b', {error: 'foreign'})],
        }),
      ],
      {dry_run: false},
    )

    // When it is rendered
    const lines = renderSyncText(result, plain).trimEnd().split('\n')

    // Then the last line is the applied summary, with no failed-targets clause
    expect(lines.at(-1)).toBe(
      'Applied: 0 created, 0 updated, 0 restored, 0 deleted, 0 unchanged, 2 conflicts, 0 drifted, 0 failed',
    )
  })

  it('marks restores and deletes, and shows why a secret failed', () => {
    // Given a restore with a changed key, a delete, and a create that AWS refused
    const result = run([
      target('t', {
        snapshot_version: null,
        changes: [
          change('restore', 'app/back', {keys_changed: ['token']}),
          change('delete', 'app/gone'),
          change('create', 'app/toolarge', {error: 'value is 70000 bytes, over 65536'}),
        ],
      }),
    ])

    // When it is rendered
    const text = renderSyncText(result, plain)

    // Then each action has its mark and the failure its reason; no snapshot means no "snapshot vN"
    expect(text).toContain(
      [
        'target t (111111111111 / us-east-1) — planned',
        '  ! app/back',
        '    ~ token',
        '  - app/gone',
        '  + app/toolarge — failed: value is 70000 bytes, over 65536',
        'Plan:',
      ].join('\n'),
    )
  })

  it('says a healthy target with nothing to do is unchanged, and a conflict without a reason is still a conflict', () => {
    // Given one target with nothing to change and one with an unexplained conflict
    const result = run([
      target('quiet', {unchanged: 7}),
      target('odd', {changes: [change('conflict', 'x')]}),
      target('empty'),
    ])

    // When it is rendered
    const text = renderSyncText(result, plain)

    // Then the quiet target shows its count, the conflict stands alone, the empty target says 0 unchanged
    expect(text).toContain('— planned snapshot v3\n  (7 unchanged)\n')
    expect(text).toContain('  ? x — conflict\n')
    expect(text).toContain('target empty (111111111111 / us-east-1) — planned snapshot v3\n  (0 unchanged)\n')
  })

  it('keeps names, keys and errors from outside on one line each', () => {
    // Given a key name and an error that hold newlines and an escape sequence
    const result = run([
      target('t', {
        changes: [
          change('update', 'app/x', {keys_changed: ['evil\n::error::forged']}),
          change('create', 'app/y', {error: 'line one\nline two \u001b[31m'}),
        ],
      }),
    ])

    // When it is rendered
    const text = renderSyncText(result, plain)

    // Then they are escaped in place: no line starts with the forged command, no raw escape byte remains
    expect(text).toContain('    ~ evil\\n::error::forged\n')
    expect(text).toContain('failed: line one\\nline two \\u001b[31m\n')
    expect(text.split('\n').some((line) => line.startsWith('::'))).toBe(false)
    expect(text).not.toContain('\u001b')
  })

  it('colours only when asked, and colour changes nothing but the escape codes', () => {
    // Given the sample run
    const result = sampleRun()

    // When it is rendered with and without colour
    const coloured = renderSyncText(result, {showValues: false, color: true})
    const uncoloured = renderSyncText(result, plain)

    // Then only the coloured one has ANSI codes, and without them both read the same
    expect(uncoloured).not.toContain('\u001b[')
    expect(coloured).toContain('\u001b[32m+ app/new\u001b[0m')
    expect(stripAnsi(coloured)).toBe(uncoloured)
  })
})
