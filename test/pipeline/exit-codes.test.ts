import {describe, expect, it} from 'vitest'
import {EXIT_CODES_HELP} from '../../src/cli/base-command.js'
import {ExitCode} from '../../src/errors.js'
import {
  accessExitCode,
  discoveryExitCode,
  historyExitCode,
  mergeExitCode,
  outcomeExitCode,
} from '../../src/exit-codes.js'

// docs/design.md §2: one rule for every kind of result — 0 no problem, 1 problems and nothing succeeded, 3 both.

describe('outcomeExitCode and the results it decides', () => {
  it('is 0 without problems whatever else is said, 1 when nothing succeeded, 3 otherwise', () => {
    expect(outcomeExitCode({problems: 0, nothingSucceeded: true})).toBe(0)
    expect(outcomeExitCode({problems: 2, nothingSucceeded: true})).toBe(1)
    expect(outcomeExitCode({problems: 2, nothingSucceeded: false})).toBe(3)
  })

  it('a merge run: 0 with no failed target (also with no target at all), 1 when all failed, 3 when some did', () => {
    expect(mergeExitCode({targets: 0, failed_targets: 0})).toBe(0)
    expect(mergeExitCode({targets: 3, failed_targets: 0})).toBe(0)
    expect(mergeExitCode({targets: 3, failed_targets: 3})).toBe(1)
    expect(mergeExitCode({targets: 3, failed_targets: 1})).toBe(3)
  })

  it('discovery: an account error alone is partial; every enabled block failing is a failure', () => {
    expect(discoveryExitCode({failed_blocks: 0, account_errors: 0}, 2)).toBe(0)
    expect(discoveryExitCode({failed_blocks: 0, account_errors: 1}, 2)).toBe(3)
    expect(discoveryExitCode({failed_blocks: 1, account_errors: 0}, 2)).toBe(3)
    expect(discoveryExitCode({failed_blocks: 2, account_errors: 0}, 2)).toBe(1)
  })

  it('version list is partial with an unreadable snapshot, even when every one is; check-access fails on any failed check', () => {
    expect(historyExitCode([{error: null}, {error: null}])).toBe(0)
    expect(historyExitCode([{error: null}, {error: 'corrupt'}])).toBe(3)
    expect(historyExitCode([{error: 'corrupt'}])).toBe(3)
    expect(accessExitCode(undefined)).toBe(0)
    expect(accessExitCode([{ok: true}])).toBe(0)
    expect(accessExitCode([{ok: true}, {ok: false}])).toBe(1)
  })
})

describe("the help's EXIT CODES section", () => {
  it('lists every code of the ExitCode map once, in its order, with the signal codes on one line', () => {
    const lines = EXIT_CODES_HELP.split('\n')
    expect(lines[0]).toBe('EXIT CODES')
    const listed = lines
      .slice(1)
      .flatMap((line) => (/^ {2}([\d/]+) {2}\S/.exec(line)?.[1] ?? 'unlisted').split('/').map(Number))
    expect(listed).toEqual(Object.values(ExitCode))
    expect(lines).toContain(
      '  130/143  stopped by SIGINT/SIGTERM (in-flight calls finished, applied records written, locks released)',
    )
    expect(lines).toContain('  3  partial failure (some targets or secrets failed, the rest applied)')
  })
})
