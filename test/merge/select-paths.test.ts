import {describe, expect, it} from 'vitest'
import {buildTargetGraph} from '../../src/graph/target-graph.js'
import {mergeTargets} from '../../src/merge/merge-targets.js'
import {globProblem, pathSelector} from '../../src/merge/select-paths.js'

// Selection per import (issue 16 item 2): globs on relative paths, `*` within a segment, `**` across segments.

const PATHS = ['db', 'svc/api', 'svc/legacy/old', 'svc/legacy/deep/x', 'svc', 'other/svc/db', 'svc.x']

describe('path globs', () => {
  it.each([
    [{include: ['svc/**']}, ['svc/api', 'svc/legacy/old', 'svc/legacy/deep/x']],
    [{include: ['svc/*']}, ['svc/api']],
    [{include: ['svc/**'], exclude: ['svc/legacy/*']}, ['svc/api', 'svc/legacy/deep/x']],
    [{include: ['**/db']}, ['db', 'other/svc/db']],
    [{include: ['svc/**/x']}, ['svc/legacy/deep/x']],
    [{include: ['s*']}, ['svc', 'svc.x']],
    [{exclude: ['svc/**', '*']}, ['other/svc/db']],
    [{include: ['**']}, PATHS],
  ])('Given %j, then exactly the matching paths are selected', (selection, expected) => {
    const selected = pathSelector({exclude: [], ...selection})
    expect(PATHS.filter(selected).sort()).toEqual([...expected].sort())
  })

  it('Given a "." in a glob, then it is a literal dot, never "any character"', () => {
    expect(['svc.x', 'svcAx'].filter(pathSelector({include: ['svc.x'], exclude: []}))).toEqual(['svc.x'])
  })

  it.each([
    ['/svc/**', 'no leading "/"'],
    ['svc//x', 'empty segment'],
    ['svc/a**', 'whole segment'],
  ])('Given the glob %j, then it is refused saying why', (glob, message) => {
    expect(globProblem(glob)).toContain(message)
  })
})

describe('mergeTargets with selections', () => {
  it('Given an import with include/exclude, then only its selected paths enter the target; a plain import takes all', () => {
    const targets = [
      {
        name: 't',
        imports: ['base', 'extra'],
        selections: [{name: 'base', include: ['svc/**'], exclude: ['svc/legacy/*']}],
        overrides: {},
      },
    ]
    const graph = buildTargetGraph(['base', 'extra'], targets)
    if (!graph.ok) throw new Error('graph')
    const sources = new Map([
      ['base', {ok: true as const, secrets: new Map(PATHS.map((p) => [p, {from: 'base'}]))}],
      ['extra', {ok: true as const, secrets: new Map([['svc/legacy/old', {from: 'extra'}]])}],
    ])
    const result = mergeTargets(graph.graph, targets, sources, 'append').get('t')
    if (!result?.ok) throw new Error('merge failed')
    expect(Object.fromEntries(result.secrets)).toEqual({
      'svc/api': {from: 'base'},
      'svc/legacy/deep/x': {from: 'base'},
      'svc/legacy/old': {from: 'extra'},
    })
  })
})
