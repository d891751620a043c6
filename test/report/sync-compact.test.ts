import {describe, expect, it} from 'vitest'
import {renderSyncCompact} from '../../src/report/sync-compact.js'
import {run, sampleRun, target} from './sync-fixtures.js'

describe('renderSyncCompact', () => {
  it('puts a dry run on one line: targets, then +created ~updated !restored -deleted =unchanged and problems', () => {
    // Given the sample dry run (1 create, 1 drifted update, 1 conflict, 40 unchanged, 1 failed target)
    const result = sampleRun()

    // When it is rendered compactly
    const line = renderSyncCompact(result)

    // Then it reads as one line with every count
    expect(line).toBe('secretsync dry-run: 2 targets (1 failed) +1 ~1 !0 -0 =40 conflicts=1 drift=1 failed=0 held=0\n')
  })

  it('says applied for a real run and counts a single target in the singular', () => {
    // Given an applied run over one target with nothing to do
    const result = run([target('t', {status: 'applied', unchanged: 5})], {dry_run: false})

    // When it is rendered compactly
    const line = renderSyncCompact(result)

    // Then it reads as one line with every count
    expect(line).toBe('secretsync applied: 1 target (0 failed) +0 ~0 !0 -0 =5 conflicts=0 drift=0 failed=0 held=0\n')
  })
})
