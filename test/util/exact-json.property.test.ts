import {describe, expect, it} from 'vitest'
import {mergeSecret} from '../../src/merge/deep-merge.js'
import {buildSnapshot, parseSnapshot, serializeSnapshot} from '../../src/store/snapshot.js'
import {desiredMetadata} from '../../src/sync/metadata.js'
import {desiredSecret, planTarget, type CurrentSecret} from '../../src/sync/plan.js'
import {contentHash} from '../../src/util/canonical-json.js'
import {
  isJsonObject,
  jsonObject,
  parseJson,
  stringifyJson,
  type JsonObject,
  type JsonValue,
} from '../../src/util/exact-json.js'
import {
  canonicalHash,
  keyLists,
  mergeDocs,
  randomObject,
  render,
  seededRandom,
  type Doc,
  type ListMode,
} from '../support/json-documents.js'

// Seeded model-based test of the secret data model: documents full of numbers a JS number cannot hold and of
// prototype-named keys go through every step a value takes (Vault parse, merge, hash, snapshot, SecretString,
// the current value parsed back for diffing) and must come out exact: the same text, the same key sets.
// Replay one seed with SEED=<n>.

const SEEDS = process.env.SEED ? [Number(process.env.SEED)] : Array.from({length: 250}, (_, i) => i + 1)
const MODES: ListMode[] = ['append', 'append_unique', 'replace']

const keysOf = (value: JsonValue): string[][] =>
  Array.isArray(value)
    ? value.flatMap(keysOf)
    : isJsonObject(value)
      ? [Object.keys(value), ...Object.keys(value).flatMap((key) => keysOf(value[key] as JsonValue))]
      : []

const prototypes = (value: JsonValue): unknown[] =>
  Array.isArray(value)
    ? value.flatMap(prototypes)
    : isJsonObject(value)
      ? [Object.getPrototypeOf(value), ...Object.keys(value).flatMap((key) => prototypes(value[key] as JsonValue))]
      : []

function forEachSeed(check: (random: () => number, seed: number) => void): void {
  for (const seed of SEEDS) {
    try {
      check(seededRandom(seed), seed)
    } catch (error) {
      throw new Error(`seed ${seed} failed (replay with SEED=${seed}): ${(error as Error).message}`, {cause: error})
    }
  }
}

const parseSecret = (doc: Doc): JsonObject => parseJson(render(doc)) as JsonObject

describe('secret data stays exact through every step (seeded, ≥200 documents)', () => {
  it('parse → serialise gives back the text byte for byte, with every key and null-prototype objects', () => {
    forEachSeed((random) => {
      const doc = randomObject(random)
      const value = parseSecret(doc)
      expect(stringifyJson(value)).toBe(render(doc))
      expect(keysOf(value)).toEqual(keyLists(doc))
      expect(prototypes(value).every((proto) => proto === null)).toBe(true)
    })
  })

  it('the content hash is the sha256 of the canonical text: keys sorted, numbers as written, every key counted', () => {
    forEachSeed((random) => {
      const doc = randomObject(random)
      expect(contentHash(parseSecret(doc))).toBe(canonicalHash(doc))
    })
  })

  it('merging two sources (and overrides) follows DESIGN §4 exactly and leaves both inputs untouched', () => {
    forEachSeed((random) => {
      const [a, b, c] = [randomObject(random), randomObject(random), randomObject(random)]
      const mode = MODES[Math.floor(random() * MODES.length)] as ListMode
      const [earlier, later, overrides] = [parseSecret(a), parseSecret(b), parseSecret(c)]
      const merged = mergeSecret(mergeSecret(earlier, later, mode), overrides, mode)
      const expected = mergeDocs(mergeDocs(a, b, mode), c, mode)
      expect(stringifyJson(merged)).toBe(render(expected))
      expect(keysOf(merged)).toEqual(keyLists(expected))
      expect(prototypes(merged).every((proto) => proto === null)).toBe(true)
      expect([stringifyJson(earlier), stringifyJson(later)]).toEqual([render(a), render(b)])
    })
  })

  it('a snapshot written and read back holds the same text and verifies its hashes, for any secret path', () => {
    forEachSeed((random, seed) => {
      const docs = [randomObject(random), randomObject(random)]
      const secrets = jsonObject([
        ['__proto__', parseSecret(docs[0] as Doc)],
        [`svc/${seed}`, parseSecret(docs[1] as Doc)],
      ]) as Record<string, JsonObject>
      const snapshot = buildSnapshot({
        target: 't',
        version: 1,
        createdAt: new Date(0),
        runId: 'r',
        sources: ['s'],
        secrets,
      })
      const read = parseSnapshot(serializeSnapshot(snapshot), 'test')
      expect(Object.keys(read.secrets).sort()).toEqual(['__proto__', `svc/${seed}`].sort())
      expect(stringifyJson(read.secrets.__proto__)).toBe(render(docs[0] as Doc))
      expect(stringifyJson(read.secrets[`svc/${seed}`])).toBe(render(docs[1] as Doc))
      expect(read.hashes.__proto__).toBe(canonicalHash(docs[0] as Doc))
    })
  })

  it('the SecretString written parses back (as the current value) equal to the desired one: the plan is empty', () => {
    forEachSeed((random) => {
      const doc = randomObject(random)
      const desired = desiredSecret('p', 'app/', parseSecret(doc))
      const secretString = stringifyJson(desired.value)
      expect(secretString).toBe(render(doc))
      const metadata = desiredMetadata({target: 't', ownership: {key: 'managed-by', value: 'secretsync'}, tags: {}})
      const current: CurrentSecret = {
        name: 'app/p',
        owned: true,
        ownerTarget: 't',
        scheduledForDeletion: false,
        currentVersionId: 'v1',
        metadata,
        value: parseJson(secretString) as JsonObject,
      }
      const plan = planTarget([desired], new Map([['app/p', current]]), undefined, {
        target: 't',
        prefix: 'app/',
        adopt: false,
        deleteOrphans: false,
        showValues: false,
        metadata,
        incomplete: [],
      })
      expect(plan.changes).toEqual([])
      expect(plan.unchanged).toHaveLength(1)
    })
  })
})
