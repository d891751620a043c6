import {describe, expect, it} from 'vitest'
import {createProgress, formatProgress} from '../../src/observability/progress.js'

/** Progress on a fake terminal and a fake clock: what is written, and when in fake time. */

function fakeTerminal(isTTY: boolean) {
  const writes: string[] = []
  return {stream: {isTTY, write: (chunk: string) => writes.push(chunk)}, writes}
}

function fakeLogger() {
  const lines: Array<{message: string; meta: unknown}> = []
  return {logger: {info: (message: string, meta?: unknown) => lines.push({message, meta})} as never, lines}
}

describe('formatProgress', () => {
  it('shows secrets walked, and targets once their total is known', () => {
    expect(formatProgress({secretsWalked: 1234, targetsDone: 0})).toBe('walked 1,234 secrets')
    expect(formatProgress({secretsWalked: 1234, targetsDone: 3, targetsTotal: 12})).toBe(
      'walked 1,234 secrets · targets 3/12',
    )
    expect(formatProgress({secretsWalked: 1, targetsDone: 0})).toBe('walked 1 secret')
  })
})

describe('createProgress on a TTY', () => {
  it('rewrites one status line in place and ends it on stop', () => {
    const clock = {now: 0}
    const {stream, writes} = fakeTerminal(true)
    const {logger, lines} = fakeLogger()
    const progress = createProgress({stream, logger, now: () => clock.now, redrawMs: 100})

    progress.update({secretsWalked: 10})
    clock.now += 100
    progress.update({secretsWalked: 1234, targetsTotal: 12, targetsDone: 3})

    expect(writes).toEqual(['\r\x1b[2Kwalked 10 secrets', '\r\x1b[2Kwalked 1,234 secrets · targets 3/12'])
    expect(writes.join('')).not.toContain('\n')

    progress.stop()
    expect(writes.at(-1)).toBe('\r\x1b[2Kwalked 1,234 secrets · targets 3/12\n')
    expect(lines).toEqual([])
  })

  it('redraws at most once per redraw interval but keeps the latest counts for the next one', () => {
    const clock = {now: 0}
    const {stream, writes} = fakeTerminal(true)
    const progress = createProgress({stream, logger: fakeLogger().logger, now: () => clock.now, redrawMs: 100})

    for (let i = 1; i <= 50; i++) progress.update({secretsWalked: i})
    clock.now += 100
    progress.update({targetsTotal: 2})

    expect(writes).toEqual(['\r\x1b[2Kwalked 1 secret', '\r\x1b[2Kwalked 50 secrets · targets 0/2'])
  })

  it('writes nothing on stop when nothing was drawn, and ignores updates after stop', () => {
    const {stream, writes} = fakeTerminal(true)
    const progress = createProgress({stream, logger: fakeLogger().logger, now: () => 0})

    progress.stop()
    progress.update({secretsWalked: 5})

    expect(writes).toEqual([])
  })
})

describe('createProgress off a TTY', () => {
  it('logs a progress line at most once per interval, the first after a full interval', () => {
    const clock = {now: 0}
    const {stream, writes} = fakeTerminal(false)
    const {logger, lines} = fakeLogger()
    const progress = createProgress({stream, logger, now: () => clock.now, intervalMs: 10_000})

    // A short phase: no progress lines at all
    progress.update({secretsWalked: 100})
    clock.now += 9_999
    progress.update({secretsWalked: 200})
    expect(lines).toEqual([])

    // After the interval: one line with the latest counts, then quiet again until the next interval
    clock.now += 1
    progress.update({secretsWalked: 300, targetsTotal: 4})
    clock.now += 5_000
    progress.update({targetsDone: 1})
    expect(lines).toEqual([{message: 'progress', meta: {secrets_walked: 300, targets_done: 0, targets_total: 4}}])

    clock.now += 5_000
    progress.update({targetsDone: 2})
    expect(lines).toHaveLength(2)
    expect(lines[1]?.meta).toEqual({secrets_walked: 300, targets_done: 2, targets_total: 4})

    progress.stop()
    expect(lines).toHaveLength(2)
    expect(writes).toEqual([])
  })
})
