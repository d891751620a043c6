import {describe, expect, it} from 'vitest'
import {renderSync, wantsColor} from '../../src/report/render-sync.js'
import {renderSyncCompact} from '../../src/report/sync-compact.js'
import {renderSyncGithub} from '../../src/report/sync-github.js'
import {renderSyncJson} from '../../src/report/sync-json.js'
import {renderSyncText} from '../../src/report/sync-text.js'
import {sampleRunWithValues} from './sync-fixtures.js'

const options = {showValues: false, color: false}

describe('renderSync', () => {
  it('json: the contract object, indented by 2, one trailing newline, no GitHub files', () => {
    // Given a run whose changes carry values
    const result = sampleRunWithValues()

    // When it is rendered as json without showValues
    const rendered = renderSync(result, 'json', options)

    // Then stdout parses back to the contract object and nothing else is produced
    expect(rendered.stdout).toBe(`${JSON.stringify(renderSyncJson(result, options), null, 2)}\n`)
    expect(rendered.stdout.startsWith('{\n  "run_id": "run-1",')).toBe(true)
    expect(rendered.stdout).not.toContain('VALUE-')
    expect(rendered.github).toBeUndefined()
  })

  it('github: stdout is the log, and the step summary and outputs come along for writeGithubFiles', () => {
    // Given the sample run
    const result = sampleRunWithValues()

    // When it is rendered for GitHub
    const rendered = renderSync(result, 'github', options)

    // Then
    // (the stop-commands tokens are random per rendering)
    const untokened = (text: string | undefined): string | undefined => text?.replace(/[0-9a-f]{64}/g, '<token>')
    const expected = renderSyncGithub(result, options)
    expect({...rendered.github, stdout: untokened(rendered.github?.stdout)}).toEqual({
      ...expected,
      stdout: untokened(expected.stdout),
    })
    expect(rendered.stdout).toBe(rendered.github?.stdout)
  })

  it('text and compact pass their options through', () => {
    // Given the sample run
    const result = sampleRunWithValues()

    // When it is rendered as coloured text with values, and compactly
    const text = renderSync(result, 'text', {showValues: true, color: true})
    const compact = renderSync(result, 'compact', {showValues: true, color: true})

    // Then text honours both options, compact is the one line
    expect(text.stdout).toBe(renderSyncText(result, {showValues: true, color: true}))
    expect(text.stdout).toContain('\u001b[')
    expect(text.stdout).toContain('VALUE-new-password')
    expect(compact.stdout).toBe(renderSyncCompact(result))
    expect(compact.github).toBeUndefined()
  })
})

describe('wantsColor', () => {
  it('colours a terminal unless NO_COLOR is set to something', () => {
    // Given a TTY or not, with NO_COLOR unset, empty or set
    // Then
    expect(wantsColor(true, {})).toBe(true)
    expect(wantsColor(true, {NO_COLOR: ''})).toBe(true)
    expect(wantsColor(true, {NO_COLOR: '1'})).toBe(false)
    expect(wantsColor(false, {})).toBe(false)
    expect(wantsColor(undefined, {})).toBe(false)
  })
})
