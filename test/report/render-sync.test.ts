import {describe, expect, it} from 'vitest'
import {renderPipelineOutput} from '../../src/report/render-pipeline.js'
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
    expect(untokened(rendered.stdout)).toBe(untokened(expected.stdout))
    expect(rendered.github).toEqual({summaryMarkdown: expected.summaryMarkdown, outputs: expected.outputs})
    // and the text is one rendering, however often it is read
    expect(rendered.stdout).toBe(rendered.stdout)
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

describe('renderPipelineOutput with masked values (the Action)', () => {
  it('prints the masks first, then reads the targets one at a time as it prints: the output is never gathered', async () => {
    // Given a run with values whose targets count every time one is read
    const sample = sampleRunWithValues()
    let reads = 0
    const targets = {
      *[Symbol.iterator]() {
        for (const target of sample.targets) {
          reads += 1
          yield target
        }
      },
    }
    const outcome = {kind: 'sync' as const, result: {...sample, targets}, exitCode: 0 as const}
    const output = await renderPipelineOutput(outcome, {
      format: 'text',
      showValues: true,
      diff: true,
      env: {},
      maskValues: true,
    })

    // When the first chunks are taken
    const afterMasks = reads
    const chunks = output.chunks[Symbol.iterator]()
    const first = chunks.next().value as string
    while (String(chunks.next().value).startsWith('::add-mask::'));

    // Then the masks came first, and the text output has read only the first target so far
    expect(first).toMatch(/^::add-mask::/)
    expect(reads - afterMasks).toBe(1)
    expect(output.stdout).toContain('VALUE-new-password')
  })
})
