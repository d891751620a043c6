import {seededRandom} from './controls.js'
import {createHash} from 'node:crypto'

/**
 * A seeded generator of JSON secret documents meant to break a lossy data model: numbers a JS number cannot hold
 * (2^53+1, 1e400, -0, 29-digit integers, long decimals, exponents), prototype-named and odd keys (`__proto__`,
 * `constructor`, empty, unicode, control characters), and the oracle that goes with them. A document is kept as
 * a tree of entries with number *text*, never as JS objects, so the oracle does not share the data model it checks.
 */
export type Doc =
  | {kind: 'object'; entries: Array<[string, Doc]>}
  | {kind: 'array'; items: Doc[]}
  | {kind: 'number'; text: string}
  | {kind: 'string'; value: string}
  | {kind: 'boolean'; value: boolean}
  | {kind: 'null'}

export type ListMode = 'append' | 'append_unique' | 'replace'

export {seededRandom}

export const ODD_NUMBERS = [
  '9007199254740993', // 2^53 + 1
  '1152921504606846977',
  '-9223372036854775809',
  '12345678901234567890123456789', // 29 digits: a JS number prints it in exponent form
  '1e400',
  '-1e400',
  '1E400',
  '1e-400',
  '-0',
  '-0.0',
  '1.0',
  '2.50',
  '0.1000000000000000055511151231257827',
  '3.14159265358979323846264338327950288',
  '1e21',
  '1e+21',
  '123e-7',
  '1.7976931348623157e308',
  '5e-324',
  '0',
  '5432',
  '0.25',
  '-7',
]

export const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'toJSON',
  'isLosslessNumber',
  'value',
  '',
  'ключ',
  'emoji 😀',
  'nul\u0000byte',
  'tab\tand\nnewline',
  'esc\u001b[31m',
  '\u2028',
  'a "quoted" key',
  'back\\slash',
]

const STRINGS = [
  '',
  'plain',
  'café',
  '\u0000',
  '\u001b]8;;x\u0007',
  'line\nbreak',
  '"',
  '\\',
  '</script>',
  '\ud800',
  '😀',
  '1152921504606846977',
  '__proto__',
]

// Integer-like keys ("7") are ordered first by every JS object, whatever order they were written in; the
// documents avoid them so text order is an exact oracle. They are covered by a unit test instead.
const isArrayIndex = (key: string): boolean => /^(0|[1-9]\d*)$/.test(key)

export function randomDocument(random: () => number, depth = 0): Doc {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  const roll = random()
  if (depth < 3 && roll < 0.25) return randomObject(random, depth + 1)
  if (depth < 3 && roll < 0.35)
    return {
      kind: 'array',
      items: Array.from({length: Math.floor(random() * 4)}, () => randomDocument(random, depth + 1)),
    }
  if (roll < 0.65) return {kind: 'number', text: random() < 0.7 ? pick(ODD_NUMBERS) : randomNumberText(random)}
  if (roll < 0.85) return {kind: 'string', value: pick(STRINGS)}
  if (roll < 0.93) return {kind: 'boolean', value: random() < 0.5}
  return {kind: 'null'}
}

/** An object with distinct keys, drawn mostly from the hostile ones. */
export function randomObject(random: () => number, depth = 0): Doc & {kind: 'object'} {
  const count = Math.floor(random() * 6)
  const entries: Array<[string, Doc]> = []
  for (let i = 0; i < count; i++) {
    const key =
      random() < 0.6
        ? (HOSTILE_KEYS[Math.floor(random() * HOSTILE_KEYS.length)] as string)
        : `k${Math.floor(random() * 5)}`
    if (isArrayIndex(key) || entries.some(([existing]) => existing === key)) continue
    entries.push([key, randomDocument(random, depth)])
  }
  return {kind: 'object', entries}
}

function randomNumberText(random: () => number): string {
  const digits = (n: number) => Array.from({length: n}, () => Math.floor(random() * 10)).join('')
  const integer = random() < 0.2 ? '0' : `${1 + Math.floor(random() * 9)}${digits(Math.floor(random() * 35))}`
  const fraction = random() < 0.4 ? `.${digits(1 + Math.floor(random() * 30))}` : ''
  const exponent =
    random() < 0.3
      ? `${random() < 0.5 ? 'e' : 'E'}${['', '+', '-'][Math.floor(random() * 3)]}${1 + Math.floor(random() * 400)}`
      : ''
  return `${random() < 0.3 ? '-' : ''}${integer}${fraction}${exponent}`
}

/** Compact JSON text; strings escaped as JSON.stringify escapes them. */
export function render(doc: Doc): string {
  switch (doc.kind) {
    case 'object':
      return `{${doc.entries.map(([key, value]) => `${JSON.stringify(key)}:${render(value)}`).join(',')}}`
    case 'array':
      return `[${doc.items.map(render).join(',')}]`
    case 'number':
      return doc.text
    case 'string':
      return JSON.stringify(doc.value)
    case 'boolean':
      return String(doc.value)
    case 'null':
      return 'null'
  }
}

/** The canonical form of docs/design.md §4's hashing: keys sorted (UTF-16 order) at every level, numbers as written. */
export function canonical(doc: Doc): Doc {
  if (doc.kind === 'object')
    return {
      kind: 'object',
      entries: [...doc.entries]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, value]) => [key, canonical(value)]),
    }
  if (doc.kind === 'array') return {kind: 'array', items: doc.items.map(canonical)}
  return doc
}

export const canonicalHash = (doc: Doc): string =>
  createHash('sha256')
    .update(render(canonical(doc)))
    .digest('hex')

/** docs/design.md §4's deep merge on the entry model: objects recurse, lists by mode, later null keeps earlier, later scalars win. */
export function mergeDocs(earlier: Doc, later: Doc, mode: ListMode): Doc {
  if (earlier.kind === 'object' && later.kind === 'object') {
    const entries: Array<[string, Doc]> = [...earlier.entries]
    for (const [key, value] of later.entries) {
      const at = entries.findIndex(([existing]) => existing === key)
      if (at === -1) entries.push([key, value])
      else if (value.kind !== 'null') entries[at] = [key, mergeDocs((entries[at] as [string, Doc])[1], value, mode)]
    }
    return {kind: 'object', entries}
  }
  if (earlier.kind === 'array' && later.kind === 'array') {
    if (mode === 'replace') return later
    if (mode === 'append') return {kind: 'array', items: [...earlier.items, ...later.items]}
    const seen = new Set(earlier.items.map((item) => render(canonical(item))))
    const items = [...earlier.items]
    for (const item of later.items) {
      const text = render(canonical(item))
      if (!seen.has(text)) items.push(item)
      seen.add(text)
    }
    return {kind: 'array', items}
  }
  return later
}

/** Every object's key list, depth first, as the oracle for "key sets exact". */
export function keyLists(doc: Doc): string[][] {
  if (doc.kind === 'object')
    return [doc.entries.map(([key]) => key), ...doc.entries.flatMap(([, value]) => keyLists(value))]
  if (doc.kind === 'array') return doc.items.flatMap(keyLists)
  return []
}
