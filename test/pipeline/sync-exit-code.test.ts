import {describe, expect, it} from 'vitest'
import {syncExitCode} from '../../src/exit-codes.js'
import {change, run, target} from '../report/sync-fixtures.js'

// docs/design.md §2: 0 ok, 1 nothing at all could be applied, 3 partial, 4 changes with --exit-code; most severe wins.

describe('syncExitCode', () => {
  const applied = (fields: Parameters<typeof target>[1]) => target('t', {status: 'applied', ...fields})

  it('0 when everything applied; 4 with --exit-code when something changed', () => {
    const result = run([applied({changes: [change('create', 'a')], unchanged: 2})], {dry_run: false})
    expect(syncExitCode(result, false)).toBe(0)
    expect(syncExitCode(result, true)).toBe(4)
  })

  it('3 when some secrets failed or conflicted and the rest applied', () => {
    expect(
      syncExitCode(
        run([applied({changes: [change('create', 'a'), change('conflict', 'b', {error: 'foreign'})]})]),
        true,
      ),
    ).toBe(3)
    expect(
      syncExitCode(
        run([
          applied({
            changes: [change('create', 'a'), change('create', 'b', {error: 'EncryptionFailure'})],
            unchanged: 5,
          }),
        ]),
        false,
      ),
    ).toBe(3)
  })

  it('1 when every change failed (e.g. every CreateSecret refused by KMS), also beside secrets already in sync', () => {
    const result = run([
      applied({
        changes: [
          change('create', 'a', {error: 'EncryptionFailure'}),
          change('create', 'b', {error: 'EncryptionFailure'}),
        ],
      }),
    ])
    expect(syncExitCode(result, true)).toBe(1)
    expect(
      syncExitCode(
        run([applied({changes: [change('create', 'a', {error: 'EncryptionFailure'})], unchanged: 5})]),
        false,
      ),
    ).toBe(1)
  })

  it('3, not 1, when the only problems are refusals: conflicts or held deletions with nothing else to write', () => {
    expect(
      syncExitCode(run([applied({changes: [change('conflict', 'b', {error: 'foreign'})], unchanged: 3})]), false),
    ).toBe(3)
    expect(
      syncExitCode(run([applied({changes: [change('delete', 'o', {held: true, error: 'held: budget'})]})]), false),
    ).toBe(3)
  })

  it('1 when every target failed', () => {
    expect(
      syncExitCode(
        run([target('a', {status: 'failed', error: 'denied'}), target('b', {status: 'failed', error: 'denied'})]),
        false,
      ),
    ).toBe(1)
  })

  it('3 for held deletions beside secrets in sync, and for an applied target whose record could not be written', () => {
    expect(
      syncExitCode(
        run([applied({changes: [change('delete', 'o', {held: true, error: 'held: budget'})], unchanged: 4})]),
        false,
      ),
    ).toBe(3)
    expect(
      syncExitCode(
        run([
          applied({
            changes: [change('update', 'a')],
            error: 'the changes were applied, but the applied record could not be written: 500',
          }),
        ]),
        false,
      ),
    ).toBe(3)
  })
})
