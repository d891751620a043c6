import {describe, expect, it} from 'vitest'
import {buildTargetGraph, type GraphTargetInput, type TargetGraph} from '../../src/graph/target-graph.js'

const t = (name: string, ...imports: string[]): GraphTargetInput => ({name, imports})

function graphOf(sources: string[], targets: GraphTargetInput[]): TargetGraph {
  const result = buildTargetGraph(sources, targets)
  if (!result.ok) throw new Error(result.issues.map((i) => i.message).join('; '))
  return result.graph
}

const issuesOf = (sources: string[], targets: GraphTargetInput[]) => {
  const result = buildTargetGraph(sources, targets)
  if (result.ok) throw new Error('expected issues')
  return result.issues
}

describe('target graph levels', () => {
  it('a chain of four targets takes four levels in import order', () => {
    const graph = graphOf(['s'], [t('d', 'c'), t('c', 'b'), t('b', 'a'), t('a', 's')])
    expect(graph.levels).toEqual([['a'], ['b'], ['c'], ['d']])
    expect(graph.order).toEqual(['a', 'b', 'c', 'd'])
  })

  it('a diamond puts both middles on one level and the join above them', () => {
    const graph = graphOf(
      ['s'],
      [t('top', 'left', 'right'), t('left', 'bottom'), t('right', 'bottom'), t('bottom', 's')],
    )
    expect(graph.levels).toEqual([['bottom'], ['left', 'right'], ['top']])
    expect(graph.levelOf('top')).toBe(2)
  })

  it('a target sits one level above its highest import, not its lowest', () => {
    const graph = graphOf(['s'], [t('a', 's'), t('b', 'a'), t('c', 'a', 'b')])
    expect(graph.levelOf('c')).toBe(2)
  })

  it('a forest of independent trees shares levels, config order within a level', () => {
    const graph = graphOf(
      ['s1', 's2'],
      [t('x1', 's1'), t('y1', 's2'), t('x2', 'x1'), t('y2', 'y1'), t('z', 's1', 's2')],
    )
    expect(graph.levels).toEqual([
      ['x1', 'y1', 'z'],
      ['x2', 'y2'],
    ])
  })

  it('a target importing nothing is on level 0', () => {
    expect(graphOf([], [t('lonely')]).levels).toEqual([['lonely']])
  })

  it('withDependencies adds what the named targets import, transitively, in order', () => {
    const graph = graphOf(['s'], [t('a', 's'), t('b', 'a'), t('c', 'b'), t('other', 's')])
    expect(graph.withDependencies(['c'])).toEqual(['a', 'b', 'c'])
    expect(graph.withDependencies(['other', 'a'])).toEqual(['a', 'other'])
  })

  it('sourcesOf follows imported targets down to the sources they read', () => {
    const graph = graphOf(['base', 'prod', 'unused'], [t('a', 'base'), t('b', 'a', 'prod')])
    expect(graph.sourcesOf('b')).toEqual(['base', 'prod'])
    expect(graph.sourcesOf('a')).toEqual(['base'])
  })
})

describe('target graph errors', () => {
  it.each([
    {length: 1, targets: [t('a', 'a')], message: 'target "a" imports itself', code: 'IMPORT_SELF'},
    {length: 2, targets: [t('a', 'b'), t('b', 'a')], message: 'import cycle: a -> b -> a', code: 'TARGET_CYCLE'},
    {
      length: 3,
      targets: [t('a', 'b'), t('b', 'c'), t('c', 'a')],
      message: 'import cycle: a -> b -> c -> a',
      code: 'TARGET_CYCLE',
    },
    {
      length: 4,
      targets: [t('a', 'b'), t('b', 'c'), t('c', 'd'), t('d', 'a')],
      message: 'import cycle: a -> b -> c -> d -> a',
      code: 'TARGET_CYCLE',
    },
  ])('a cycle of length $length is reported with its path', ({targets, message, code}) => {
    const issues = issuesOf(['s'], targets)
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({code, message})
  })

  it('a cycle hanging off an acyclic part is reported once, from where the walk entered it', () => {
    const issues = issuesOf(['s'], [t('root', 's'), t('x', 'root', 'y'), t('y', 'x')])
    expect(issues.map((i) => i.message)).toEqual(['import cycle: x -> y -> x'])
  })

  it('two separate cycles are both reported', () => {
    const issues = issuesOf([], [t('a', 'b'), t('b', 'a'), t('c', 'd'), t('d', 'c')])
    expect(issues.map((i) => i.message)).toEqual(['import cycle: a -> b -> a', 'import cycle: c -> d -> c'])
  })

  it('unknown imports suggest the closest name and point at the import', () => {
    const issues = issuesOf(['production'], [t('a', 'prodution')])
    expect(issues).toEqual([
      {
        code: 'IMPORT_UNKNOWN',
        targetIndex: 0,
        importIndex: 0,
        message: 'unknown import "prodution": no vault source or target has that name (did you mean "production"?)',
      },
    ])
  })

  it('duplicate names point at the second definition', () => {
    const issues = issuesOf(['s'], [t('a', 's'), t('a', 's')])
    expect(issues).toEqual([
      {code: 'TARGET_DUPLICATE', targetIndex: 1, message: 'duplicate name "a": targets[0] already has it'},
    ])
  })
})
