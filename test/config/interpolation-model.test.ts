import {seededRandom} from '../support/controls.js'
import {describe, expect, it} from 'vitest'
import {ConfigError} from '../../src/errors.js'
import {parseConfig} from '../../src/config/load.js'

// A seeded generator of hostile config strings: random mixes of §-placeholders, `${`, `$${`, YAML
// metacharacters, control characters and unicode, in double-quoted, plain block and plain flow scalars, with
// equally hostile variable values. Oracle: the parsed value is exactly the model's concatenation (literal
// text as written, each reference replaced once by its variable's value), or the config is refused naming
// the key and the variable. Set SEED to replay a failure.

const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31))

const random = seededRandom

type Style = 'double' | 'plain-block' | 'plain-flow'
type Segment =
  | {kind: 'literal'; text: string}
  | {kind: 'ref'; variable: string; fallback?: string}
  | {kind: 'escape'; variable: string}

const HOSTILE = [
  '§0§',
  '§1§',
  '§00§',
  '${V1}',
  '$${V2}',
  '${',
  '$',
  '}',
  '{',
  '*',
  '&a',
  '!t',
  '|',
  '>',
  "'",
  '"',
  '#',
  ': ',
  '- ',
  ',',
  '[',
  ']',
  '\n',
  '\t',
  '\r',
  '\u0001',
  '\u0007',
  '\u001b[31m',
  '\u0085',
  '\u2028',
  'é',
  '日本',
  '😀',
  ' ',
  '%',
  '@',
  '`',
  'null',
  'true',
  '123',
  '0x1F',
  '\\',
  '::error::',
  '##[x]',
]
const PLAIN = ['a', 'Z', '9', '§', '§0§', '_', '.', '/', 'é', '日']
const FALLBACK = ['x', '§1§', ':', '#', '&', '*', '{', ' ', 'é', '-', '|']
const VARIABLES = ['V0', 'V1', 'V2', 'V3']

interface Case {
  yaml: string
  env: Record<string, string>
  expected: {value: string} | {refused: string[]}
}

function generate(next: () => number): Case {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T
  const text = (pool: readonly string[], max: number): string =>
    Array.from({length: 1 + Math.floor(next() * max)}, () => pick(pool)).join('')
  const env: Record<string, string> = {}
  for (const variable of VARIABLES) if (next() < 0.85) env[variable] = next() < 0.1 ? '' : text(HOSTILE, 6)
  const style = pick<Style>(['double', 'plain-block', 'plain-flow'])
  // A plain scalar starts with a letter, so YAML never reads the literal text as a number or boolean.
  const lead: Segment[] = style === 'double' ? [] : [{kind: 'literal', text: 'v'}]
  const segments: Segment[] = lead.concat(
    Array.from({length: 1 + Math.floor(next() * 5)}, (): Segment => {
      const roll = next()
      const variable = next() < 0.1 ? 'UNSET' : pick(VARIABLES)
      if (roll < 0.4) return {kind: 'literal', text: text(style === 'double' ? HOSTILE : PLAIN, 4)}
      if (roll < 0.6) return {kind: 'escape', variable}
      return next() < 0.3 ? {kind: 'ref', variable, fallback: text(FALLBACK, 3)} : {kind: 'ref', variable}
    }),
  )

  // The model: what each segment is written as, and what it means.
  const written = segments
    .map((segment) => {
      if (segment.kind === 'escape') return `$\${${segment.variable}}`
      if (segment.kind === 'ref')
        return segment.fallback === undefined
          ? `\${${segment.variable}}`
          : `\${${segment.variable}:-${segment.fallback}}`
      // In double quotes every `$` is escaped as \x24, so literal text never forms a reference.
      return style === 'double' ? JSON.stringify(segment.text).slice(1, -1).replaceAll('$', '\\x24') : segment.text
    })
    .join('')
  // Refused: a variable without a value, or a \x01 escape (the masking character) beside any reference.
  const references = segments.filter((segment) => segment.kind !== 'literal')
  const unset = segments.some(
    (segment) => segment.kind === 'ref' && segment.fallback === undefined && env[segment.variable] === undefined,
  )
  const forged =
    references.length > 0 && segments.some((segment) => segment.kind === 'literal' && segment.text.includes('\u0001'))
  let expected: Case['expected']
  if (unset || forged) expected = {refused: references.map((segment) => segment.variable)}
  else {
    const value = segments
      .map((segment) => {
        if (segment.kind === 'literal') return segment.text
        if (segment.kind === 'escape') return `\${${segment.variable}}`
        const found = env[segment.variable]
        return found !== undefined && (found !== '' || segment.fallback === undefined)
          ? found
          : (segment.fallback ?? '')
      })
      .join('')
    expected = {value}
  }
  const scalar = style === 'double' ? `"${written}"` : written
  const tags =
    style === 'plain-flow' ? `    tags: {k: ${scalar}, other: x}\n` : `    tags:\n      k: ${scalar}\n      other: x\n`
  return {yaml: `targets:\n  - name: t\n    region: us-east-1\n${tags}`, env, expected}
}

describe(`interpolation of hostile strings (SEED=${seed})`, () => {
  it('is exact: value in = value out, or refused naming the key and the variable', () => {
    const next = random(seed)
    for (let run = 0; run < 400; run++) {
      const generated = generate(next)
      const context = `SEED=${seed} run ${run}\n${JSON.stringify(generated, null, 1)}`
      let outcome: {value: string | undefined} | {error: ConfigError}
      try {
        outcome = {
          value: parseConfig(generated.yaml, 'secretsync.yaml', {env: generated.env}).config.targets[0]?.tags.k,
        }
      } catch (error) {
        if (!(error instanceof ConfigError)) throw new Error(`${context}\n${String(error)}`)
        outcome = {error}
      }
      if ('value' in generated.expected) {
        expect(outcome, context).toEqual({value: generated.expected.value})
      } else {
        expect('error' in outcome, context).toBe(true)
        if (!('error' in outcome)) continue
        const [issue, ...more] = outcome.error.issues
        expect(more, context).toEqual([])
        expect(issue, context).toMatchObject({
          line: generated.yaml.includes('tags: {') ? 4 : 5,
          path: 'targets[0].tags.k',
        })
        const named = /^(?:environment variable (\w+) is not set|cannot interpolate \$\{(\w+)\} exactly)/.exec(
          issue?.message ?? '',
        )
        expect(generated.expected.refused, context).toContain(named?.[1] ?? named?.[2])
        for (const value of Object.values(generated.env))
          if (value.length >= 4) expect(outcome.error.message, context).not.toContain(value)
      }
    }
  })
})
