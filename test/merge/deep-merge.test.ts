import {describe, expect, it} from 'vitest'
import {mergeSecret} from '../../src/merge/deep-merge.js'
import type {JsonObject} from '../../src/util/canonical-json.js'

describe('mergeSecret lists', () => {
  it('append: later items follow earlier ones, duplicates kept', () => {
    expect(mergeSecret({hosts: ['a', 'b']}, {hosts: ['b', 'c']}, 'append')).toEqual({hosts: ['a', 'b', 'b', 'c']})
  })

  it('append: lists of objects are concatenated, not merged index by index', () => {
    const merged = mergeSecret({users: [{name: 'a', role: 'r'}]}, {users: [{name: 'b'}]}, 'append')
    expect(merged).toEqual({users: [{name: 'a', role: 'r'}, {name: 'b'}]})
  })

  it('append_unique: later duplicates are dropped by deep equality, regardless of key order', () => {
    const merged = mergeSecret({x: [1, {a: 1, b: 2}]}, {x: [{b: 2, a: 1}, 1, 3, 3]}, 'append_unique')
    expect(merged).toEqual({x: [1, {a: 1, b: 2}, 3]})
  })

  it('replace: the later list wins whole', () => {
    expect(mergeSecret({x: [1, 2, 3]}, {x: [9]}, 'replace')).toEqual({x: [9]})
  })

  it.each(['append', 'append_unique', 'replace'] as const)('%s: empty lists on either side', (mode) => {
    expect(mergeSecret({x: []}, {x: [1]}, mode)).toEqual({x: [1]})
    expect(mergeSecret({x: [1]}, {x: []}, mode)).toEqual({x: mode === 'replace' ? [] : [1]})
  })
})

describe('mergeSecret objects and scalars', () => {
  it('nested maps 5 deep merge key by key', () => {
    const earlier: JsonObject = {a: {b: {c: {d: {e: {keep: 1, change: 1}}}}}}
    const later: JsonObject = {a: {b: {c: {d: {e: {change: 2, add: 3}}}}}}
    expect(mergeSecret(earlier, later, 'append')).toEqual({a: {b: {c: {d: {e: {keep: 1, change: 2, add: 3}}}}}})
  })

  it('a later scalar wins over an earlier scalar', () => {
    expect(mergeSecret({port: 1, host: 'a'}, {port: 2}, 'append')).toEqual({port: 2, host: 'a'})
  })

  it.each([
    ['scalar -> list', {v: 'x'}, {v: [1]}, {v: [1]}],
    ['list -> scalar', {v: [1]}, {v: 'x'}, {v: 'x'}],
    ['scalar -> map', {v: 'x'}, {v: {k: 1}}, {v: {k: 1}}],
    ['map -> scalar', {v: {k: 1}}, {v: 'x'}, {v: 'x'}],
    ['list -> map', {v: [1]}, {v: {k: 1}}, {v: {k: 1}}],
    ['map -> list', {v: {k: 1}}, {v: [1]}, {v: [1]}],
  ])('type conflict %s: the later value wins', (_name, earlier, later, expected) => {
    expect(mergeSecret(earlier as JsonObject, later as JsonObject, 'append')).toEqual(expected)
  })

  it('a later null keeps the earlier value, also nested', () => {
    expect(mergeSecret({a: 1, n: {b: 2}}, {a: null, n: {b: null, c: 3}}, 'append')).toEqual({a: 1, n: {b: 2, c: 3}})
  })

  it('a later null with nothing earlier is kept as null', () => {
    expect(mergeSecret({a: 1}, {b: null}, 'append')).toEqual({a: 1, b: null})
  })

  it('strings pass through unchanged, including <>& and unicode', () => {
    const value = '<tag a="1">&amp; ü 🎉</tag>'
    expect(mergeSecret({s: 'old'}, {s: value}, 'append')).toEqual({s: value})
  })

  it('inputs are not mutated', () => {
    const earlier: JsonObject = {a: {b: [1]}}
    const later: JsonObject = {a: {b: [2], c: null}}
    mergeSecret(earlier, later, 'append')
    expect(earlier).toEqual({a: {b: [1]}})
    expect(later).toEqual({a: {b: [2], c: null}})
  })
})
