import {describe, expect, it} from 'vitest'
import {buildTargetGraph, type TargetGraph} from '../../src/graph/target-graph.js'
import {mergeSecret} from '../../src/merge/deep-merge.js'
import {mergeTargets, type MergeTargetInput, type SourceOutcome} from '../../src/merge/merge-targets.js'
import type {JsonObject} from '../../src/util/canonical-json.js'
import {stringifyJson} from '../../src/util/exact-json.js'

const source = (entries: Record<string, JsonObject>): SourceOutcome => ({
  ok: true,
  secrets: new Map(Object.entries(entries)),
})
const target = (name: string, imports: string[], overrides: JsonObject = {}): MergeTargetInput => ({
  name,
  imports,
  overrides,
})

function graphOf(sources: string[], targets: MergeTargetInput[]): TargetGraph {
  const result = buildTargetGraph(sources, targets)
  if (!result.ok) throw new Error('bad graph')
  return result.graph
}

const secretsOf = (outcome: ReturnType<typeof mergeTargets>, name: string): Record<string, JsonObject> => {
  const result = outcome.get(name)
  if (!result?.ok) throw new Error(`target ${name} failed`)
  return Object.fromEntries(result.secrets)
}

describe('mergeTargets', () => {
  it('imports merge in order per relative path; later wins; new paths are added', () => {
    const sources = new Map([
      ['base', source({'app/db': {host: 'db', port: 5432}, 'app/only-base': {x: 1}})],
      ['prod', source({'app/db': {host: 'prod-db'}, 'app/only-prod': {y: 2}})],
    ])
    const targets = [target('t', ['base', 'prod'])]
    const merged = mergeTargets(graphOf(['base', 'prod'], targets), targets, sources, 'append')
    expect(secretsOf(merged, 't')).toEqual({
      'app/db': {host: 'prod-db', port: 5432},
      'app/only-base': {x: 1},
      'app/only-prod': {y: 2},
    })
  })

  it('a chain of 3 imports: each target contributes its final state, overrides included', () => {
    const sources = new Map([['s', source({cfg: {level: 's', list: [0]}})]])
    const targets = [
      target('a', ['s'], {level: 'a', list: [1]}),
      target('b', ['a'], {list: [2]}),
      target('c', ['b'], {level: 'c'}),
    ]
    const merged = mergeTargets(graphOf(['s'], targets), targets, sources, 'append')
    expect(secretsOf(merged, 'a')).toEqual({cfg: {level: 'a', list: [0, 1]}})
    expect(secretsOf(merged, 'b')).toEqual({cfg: {level: 'a', list: [0, 1, 2]}})
    expect(secretsOf(merged, 'c')).toEqual({cfg: {level: 'c', list: [0, 1, 2]}})
  })

  it('a diamond: A imports B then C, both import D; C (later) wins, D contributes through both', () => {
    const sources = new Map([['d-src', source({cfg: {from: 'd', tags: ['d']}})]])
    const targets = [
      target('D', ['d-src']),
      target('B', ['D'], {from: 'b', tags: ['b']}),
      target('C', ['D'], {from: 'c', tags: ['c']}),
      target('A', ['B', 'C']),
    ]
    const merged = mergeTargets(graphOf(['d-src'], targets), targets, sources, 'append_unique')
    expect(secretsOf(merged, 'A')).toEqual({cfg: {from: 'c', tags: ['d', 'b', 'c']}})
  })

  it('overrides are merged into every secret, last', () => {
    const sources = new Map([['s', source({one: {env: 'dev', a: 1}, two: {b: 2}})]])
    const targets = [target('t', ['s'], {env: 'production'})]
    const merged = mergeTargets(graphOf(['s'], targets), targets, sources, 'append')
    expect(secretsOf(merged, 't')).toEqual({one: {env: 'production', a: 1}, two: {b: 2, env: 'production'}})
  })

  it('a failed source fails exactly the targets that import it, directly or through a target', () => {
    const sources = new Map<string, SourceOutcome>([
      ['good', source({a: {v: 1}})],
      ['bad', {ok: false, error: 'max_secrets (10) exceeded'}],
    ])
    const targets = [target('uses-bad', ['good', 'bad']), target('via-target', ['uses-bad']), target('fine', ['good'])]
    const merged = mergeTargets(graphOf(['good', 'bad'], targets), targets, sources, 'append')
    expect(merged.get('uses-bad')).toEqual({
      ok: false,
      failedSources: ['bad'],
      error: 'source "bad" failed: max_secrets (10) exceeded',
    })
    expect(merged.get('via-target')).toMatchObject({ok: false, failedSources: ['bad']})
    expect(secretsOf(merged, 'fine')).toEqual({a: {v: 1}})
  })

  it('only the requested targets and their dependencies are merged', () => {
    const sources = new Map([['s', source({a: {v: 1}})]])
    const targets = [target('x', ['s']), target('y', ['x']), target('z', ['s'])]
    const merged = mergeTargets(graphOf(['s'], targets), targets, sources, 'append', ['y'])
    expect([...merged.keys()]).toEqual(['x', 'y'])
  })
})

describe('a target with overrides', () => {
  it('merges them into every secret as mergeSecret would, copying them once for the target', () => {
    // Given secrets of every shape under a source, and overrides as YAML gives them (ordinary objects, a
    // `__proto__` key, nested objects and lists)
    const overrides = JSON.parse(
      '{"__proto__": {"x": 1}, "db": {"port": 5432, "opts": ["ssl"]}, "flags": ["a", "b"], "n": null, "s": "v"}',
    ) as JsonObject
    const secrets: Record<string, JsonObject> = {
      empty: {},
      flat: {s: 'old', n: 1},
      nested: {db: {host: 'h', port: 1, opts: ['ssl', 'gzip']}},
      lists: {flags: ['b', 'c'], db: 'not an object'},
      proto: JSON.parse('{"__proto__": {"y": 2}}') as JsonObject,
    }
    for (const mode of ['append', 'append_unique', 'replace'] as const) {
      const graph = graphOf(['base'], [target('app', ['base'], overrides)])
      const merged = mergeTargets(
        graph,
        [target('app', ['base'], overrides)],
        new Map([['base', source(secrets)]]),
        mode,
      )

      // Then each secret is what merging the overrides into it alone gives, in null-prototype objects
      const result = secretsOf(merged, 'app')
      for (const [path, secret] of Object.entries(secrets)) {
        const expected = mergeSecret(secret, overrides, mode)
        expect(stringifyJson(result[path] ?? null), `${mode} ${path}`).toBe(stringifyJson(expected))
        expect(Object.getPrototypeOf(result[path]), `${mode} ${path}`).toBeNull()
        expect(Object.getPrototypeOf(result[path]?.__proto__), `${mode} ${path}`).toBeNull()
      }
      // And what only the overrides set is one copy, shared by the secrets, not the YAML object itself
      const protoOf = (path: string): unknown => (result[path] as Record<string, unknown>).__proto__
      expect(protoOf('empty')).toBe(protoOf('flat'))
      expect(protoOf('empty')).not.toBe((overrides as Record<string, unknown>).__proto__)
    }
  })
})
