import {afterEach, describe, expect, it} from 'vitest'
import {buildSnapshot, parseSnapshot, serializeSnapshot} from '../../src/store/snapshot.js'
import {startTestStack, type TestStack} from '../support/stack.js'
import {runMerge} from './support/merge-run.js'

let stack: TestStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

const readAll = [
  {path: 'secret/metadata/*', capabilities: ['list' as const]},
  {path: 'secret/data/*', capabilities: ['read' as const]},
]

describe('source completeness in the merge phase', () => {
  it('a 403 folder makes its source incomplete, and every target fed by it (also through imports) says why', async () => {
    // Given a source with a denied folder and a deleted secret, and a complete second source
    stack = await startTestStack({
      vault: {
        secrets: {
          'secret/base/open/a': {v: 1},
          'secret/base/x/b': {v: 2},
          'secret/base/gone': {v: 3},
          'secret/prod/c': {v: 4},
        },
        deleted: ['secret/base/gone'],
      },
    })
    const token = stack.vault.createToken({
      policies: [
        ...readAll,
        {path: 'secret/metadata/base/x/*', capabilities: ['deny']},
        {path: 'secret/metadata/base/x/', capabilities: ['deny']},
      ],
    })
    // When the merge phase walks both for a target importing one and a target importing that target
    const result = await runMerge({
      address: stack.vault.url,
      auth: {method: 'token', token},
      concurrency: 4,
      sources: [
        {name: 'base', mount: 'secret/base/'},
        {name: 'prod', mount: 'secret/prod/'},
      ],
      targets: [
        {name: 't-base', imports: ['base']},
        {name: 't-prod', imports: ['prod']},
        {name: 't-child', imports: ['t-base', 'prod']},
      ],
    })
    // Then the report says what was skipped and why; deleted secrets do not make a source incomplete
    const base = result.sources.find((s) => s.name === 'base')
    expect(base).toMatchObject({
      status: 'ok',
      complete: false,
      skipped: {deleted: 1, forbidden: 1, not_found: 0, max_depth: 0, unsafe_key: 0},
    })
    expect(base?.skipped_items).toEqual([{kind: 'folder', path: 'secret/base/x/', reason: 'forbidden'}])
    expect(result.sources.find((s) => s.name === 'prod')).toMatchObject({complete: true, skipped_items: []})
    const incomplete = Object.fromEntries(result.targets.map((t) => [t.name, t.incomplete]))
    expect(incomplete).toEqual({
      't-base': ['source "base": 1 folder denied (403): secret/base/x/'],
      't-prod': [],
      't-child': ['source "base": 1 folder denied (403): secret/base/x/'],
    })
  })

  it('denied reads, max_depth cuts and unsafe keys are named per reason', async () => {
    stack = await startTestStack({
      vault: {
        secrets: {'secret/s/ok': {v: 1}, 'secret/s/no1': {v: 2}, 'secret/s/no2': {v: 3}, 'secret/s/d1/d2/deep': {v: 4}},
      },
    })
    stack.vault.addListingAlias('secret/', 's/', ['../up', 'a//b/'])
    const token = stack.vault.createToken({
      policies: [
        ...readAll,
        {path: 'secret/data/s/no1', capabilities: ['deny']},
        {path: 'secret/data/s/no2', capabilities: ['deny']},
      ],
    })
    const result = await runMerge({
      address: stack.vault.url,
      auth: {method: 'token', token},
      concurrency: 2,
      sources: [{name: 's', mount: 'secret/s/', max_depth: 1}],
      targets: [{name: 't', imports: ['s']}],
    })
    expect(result.sources[0]).toMatchObject({
      complete: false,
      skipped: {deleted: 0, forbidden: 2, not_found: 0, max_depth: 1, unsafe_key: 2},
    })
    expect(result.targets[0]?.incomplete).toEqual([
      'source "s": 1 folder beyond max_depth: secret/s/d1/d2/',
      'source "s": 1 folder refused as unsafe keys: secret/s/a//b/',
      'source "s": 2 secrets denied (403): secret/s/no1, secret/s/no2',
      'source "s": 1 secret refused as unsafe keys: secret/s/../up',
    ])
    expect([...(result.targets[0]?.secrets.keys() ?? [])]).toEqual(['ok'])
  })

  it('records the reasons in the snapshot only when there are some, and reads them back', () => {
    const base = {target: 't', version: 2, createdAt: new Date(0), runId: 'r', sources: ['s'], secrets: {a: {v: 1}}}
    const complete = serializeSnapshot(buildSnapshot(base))
    expect(JSON.parse(complete)).not.toHaveProperty('incomplete')
    expect(parseSnapshot(complete, 'v2.json').incomplete).toBeUndefined()
    const reasons = ['source "s": 1 folder denied (403): secret/s/x/']
    const partial = serializeSnapshot(buildSnapshot({...base, incomplete: reasons}))
    expect(JSON.parse(partial)).toMatchObject({format: 1, incomplete: reasons})
    expect(parseSnapshot(partial, 'v2.json').incomplete).toEqual(reasons)
  })
})
