import {describe, expect, it} from 'vitest'
import {parseConfig} from '../../src/config/load.js'
import {mergeSecret} from '../../src/merge/deep-merge.js'
import {parseAppliedRecord} from '../../src/store/applied-record.js'
import {buildSnapshot, parseSnapshot, serializeSnapshot} from '../../src/store/snapshot.js'
import {desiredMetadata} from '../../src/sync/metadata.js'
import {desiredSecret, planTarget} from '../../src/sync/plan.js'

import {canonicalJson, contentHash, jsonEqual} from '../../src/util/canonical-json.js'
import {
  ExactNumber,
  InexactJsonError,
  isExactNumber,
  jsonObject,
  parseJson,
  stringifyJson,
  type JsonObject,
} from '../../src/util/exact-json.js'

const METADATA = desiredMetadata({target: 't', ownership: {key: 'managed-by', value: 'secretsync'}, tags: {}})

const parse = (text: string): JsonObject => parseJson(text) as JsonObject

describe('exact numbers (issue 10 defect 6)', () => {
  it.each([
    ['2^53 + 1', '9007199254740993'],
    ['a 60-bit integer', '1152921504606846977'],
    ['a 29-digit integer', '12345678901234567890123456789'],
    ['an overflowing exponent', '1e400'],
    ['an underflowing exponent', '1e-400'],
    ['negative zero', '-0'],
    ['a trailing zero', '1.0'],
    ['a long decimal', '0.1000000000000000055511151231257827'],
    ['an upper-case exponent', '1E5'],
  ])('%s keeps its digits from parse to serialise: %s', (_what, text) => {
    const value = parse(`{"n":${text}}`)
    expect(isExactNumber(value.n)).toBe(true)
    expect(stringifyJson(value)).toBe(`{"n":${text}}`)
  })

  it('numbers a JS number prints back identically stay plain numbers, so ordinary data stays ordinary', () => {
    expect(parse('{"port":5432,"ratio":0.25,"big":1e+21,"neg":-7}')).toEqual({
      port: 5432,
      ratio: 0.25,
      big: 1e21,
      neg: -7,
    })
  })

  it('equality is by JSON text: 1 equals 1, 1.0 does not equal 1, key order does not matter', () => {
    expect(jsonEqual(parse('{"a":1,"b":2}'), {b: 2, a: 1})).toBe(true)
    expect(jsonEqual(parse('{"a":1.0}'), {a: 1})).toBe(false)
    expect(jsonEqual(parse('{"a":1152921504606846977}'), parse('{"a":1152921504606846976}'))).toBe(false)
    expect(jsonEqual(parse('{"a":-0}'), {a: 0})).toBe(false)
  })

  it('a value JSON cannot hold (an Infinity from YAML overrides) refuses to serialise instead of becoming null', () => {
    expect(() => stringifyJson({a: Number.POSITIVE_INFINITY})).toThrow(InexactJsonError)
    expect(() => contentHash({a: Number.NaN})).toThrow(InexactJsonError)
  })

  it("JSON.stringify (outside secretsync's own serialiser) shows the digits as a string, never a rounded number", () => {
    expect(JSON.stringify({n: new ExactNumber('1152921504606846977')})).toBe('{"n":"1152921504606846977"}')
  })

  it('a parse error names only the position, never the text around it (it may be a secret)', () => {
    expect(() => parseJson('{"password":"hunter2"')).toThrow(/^invalid JSON at position \d+ \(21 characters\)$/)
    expect(() => parseJson('{"a":"hunter2","a":"other"}')).toThrow(/^a duplicate object key at position \d+/)
  })
})

describe('hash compatibility', () => {
  // Pinned: computed by the release before exact numbers. Applied records and snapshots already stored hold
  // hashes of this form, so for values without unusual numbers or __proto__ keys the hash must never change.
  const DOCUMENT =
    '{"user":"app","port":5432,"ratio":0.25,"big":1e+21,"neg":-7,"ok":true,"none":null,"10":"ten","2":"two","nested":{"z":[1,"two",{"b":false,"a":[]}],"a":"caf\\u00e9 \\u2028 <&> \\"q\\" \\\\ \\n\\t\\u0001 \\ud83d\\ude00"},"empty":{},"":"empty key","Zeta":"upper"}'

  it('a fixed document has the canonical text and sha256 it always had', () => {
    expect(canonicalJson(parse(DOCUMENT))).toBe(
      '{"2":"two","10":"ten","":"empty key","Zeta":"upper","big":1e+21,"empty":{},"neg":-7,"nested":{"a":"café \u2028 <&> \\"q\\" \\\\ \\n\\t\\u0001 😀","z":[1,"two",{"a":[],"b":false}]},"none":null,"ok":true,"port":5432,"ratio":0.25,"user":"app"}',
    )
    expect(contentHash(parse(DOCUMENT))).toBe('c10c98be272f235953eb2a7402393209657dbe4c2cb94639b8cd4bdd5eb3f00b')
  })

  it('a snapshot written before exact keys (its hash left __proto__ out) still reads; the next merge rewrites it', () => {
    const secret = parse('{"__proto__":{"x":1},"a":"b"}')
    const legacyHash = contentHash({a: 'b'})
    const body = `{"format":1,"target":"t","version":1,"created_at":"2026-01-01T00:00:00.000Z","run_id":"r","sources":["s"],"secrets":{"p":{"__proto__":{"x":1},"a":"b"}},"hashes":{"p":"${legacyHash}"}}`
    const snapshot = parseSnapshot(body, 'legacy')
    expect(Object.keys(snapshot.secrets.p ?? {})).toEqual(['__proto__', 'a'])
    expect(snapshot.hashes.p).not.toBe(contentHash(secret))
  })
})

describe('every key exact (issue 17 item 7)', () => {
  it('parsing keeps __proto__ as a key in a null-prototype object', () => {
    const value = parse('{"__proto__":{"polluted":true},"constructor":1}')
    expect(Object.getPrototypeOf(value)).toBeNull()
    expect(Object.keys(value)).toEqual(['__proto__', 'constructor'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('two sources merging keep __proto__, and constructor where the earlier secret has none', () => {
    const merged = mergeSecret(
      parse('{"__proto__":{"a":1},"x":1}'),
      parse('{"__proto__":{"b":2},"constructor":"c","toString":"t"}'),
      'append',
    )
    expect(stringifyJson(merged)).toBe('{"__proto__":{"a":1,"b":2},"x":1,"constructor":"c","toString":"t"}')
  })

  it('overrides (an ordinary object from YAML) merge their __proto__ key into every secret', () => {
    const overrides = JSON.parse('{"__proto__":{"env":"prod"},"hasOwnProperty":"h"}') as JsonObject
    const merged = mergeSecret(parse('{"a":1}'), overrides, 'append')
    expect(stringifyJson(merged)).toBe('{"a":1,"__proto__":{"env":"prod"},"hasOwnProperty":"h"}')
    expect(Object.getPrototypeOf(merged.__proto__)).toBeNull()
  })

  it('config overrides keep a __proto__ key through the schema and merge it into the secret', () => {
    const {config} = parseConfig(
      'targets:\n  - name: t\n    region: us-east-1\n    overrides: {__proto__: {env: prod}, constructor: c}\n',
      'secretsync.yaml',
      {env: {}},
    )
    const overrides = config.targets[0]?.overrides as JsonObject
    expect(Object.keys(overrides)).toEqual(['__proto__', 'constructor'])
    expect(stringifyJson(mergeSecret(parse('{"a":1}'), overrides, 'append'))).toBe(
      '{"a":1,"__proto__":{"env":"prod"},"constructor":"c"}',
    )
  })

  it('config overrides with a number JSON cannot hold (.inf, .nan) are a config error naming the key, never null', () => {
    expect(() =>
      parseConfig('targets:\n  - name: t\n    region: us-east-1\n    overrides: {a: {b: .inf}}\n', 'secretsync.yaml', {
        env: {},
      }),
    ).toThrow(/secretsync\.yaml:4:\d+: targets\[0\]\.overrides: JSON has no \.inf or \.nan/)
  })

  it('a change inside __proto__ changes the hash, so it is synced', () => {
    expect(contentHash(parse('{"__proto__":{"k":"old"}}'))).not.toBe(contentHash(parse('{"__proto__":{"k":"new"}}')))
  })

  it('a created secret reports exactly its own keys, none inherited', () => {
    const desired = desiredSecret('p', '', parse('{"__proto__":{"a":1},"constructor":"c","user":"u"}'))
    const plan = planTarget([desired], new Map(), undefined, {
      target: 't',
      prefix: '',
      adopt: false,
      deleteOrphans: false,
      showValues: false,
      metadata: METADATA,
      incomplete: [],
    })
    expect(plan.changes[0]).toMatchObject({
      action: 'create',
      keys_added: ['__proto__', 'constructor', 'user'],
      keys_removed: [],
      keys_changed: [],
    })
  })

  it('an update inside __proto__ is planned as a change of that key', () => {
    const desired = desiredSecret('p', '', parse('{"__proto__":{"a":2}}'))
    const current = {
      name: 'p',
      owned: true,
      ownerTarget: 't',
      scheduledForDeletion: false,
      currentVersionId: 'v',
      metadata: METADATA,
      value: parse('{"__proto__":{"a":1}}'),
    }
    const plan = planTarget([desired], new Map([['p', current]]), undefined, {
      target: 't',
      prefix: '',
      adopt: false,
      deleteOrphans: false,
      showValues: false,
      metadata: METADATA,
      incomplete: [],
    })
    expect(plan.changes[0]).toMatchObject({
      action: 'update',
      keys_added: [],
      keys_removed: [],
      keys_changed: ['__proto__'],
    })
  })

  it('an applied record keeps a secret named __proto__, and a snapshot a path named __proto__', () => {
    const record = parseAppliedRecord(
      '{"version":1,"applied_at":"2026-01-01T00:00:00.000Z","secrets":{"__proto__":{"hash":"h","version_id":"v"}}}',
      'record',
    )
    expect(Object.keys(record.secrets)).toEqual(['__proto__'])
    expect(record.secrets.__proto__).toEqual({hash: 'h', version_id: 'v'})
    expect(record.secrets.constructor).toBeUndefined()

    const secrets = jsonObject([['__proto__', parse('{"a":1}')]]) as Record<string, JsonObject>
    const snapshot = parseSnapshot(
      serializeSnapshot(
        buildSnapshot({target: 't', version: 1, createdAt: new Date(0), runId: 'r', sources: [], secrets}),
      ),
      's',
    )
    expect(Object.keys(snapshot.secrets)).toEqual(['__proto__'])
  })
})
