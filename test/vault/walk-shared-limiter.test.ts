import pLimit from 'p-limit'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createBreakers} from '../../src/resilience/breakers.js'
import {connectVault, type VaultReader} from '../../src/vault/vault-client.js'
import {checkBooks, walkVaultTree, WalkAccountingError} from '../../src/vault/walk.js'
import {recordingRuntime} from '../support/runtime.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Regression for issue 10 defect 1: a walk ended when its own last task finished while other sources kept the
// shared limiter busy, leaving folders queued (measured: 600–933 of 3,000 secrets read, exit 0).
const SOURCES = 5
const FOLDERS = 40
const SECRETS = 3

let stack: TestStack
let reader: VaultReader

beforeAll(async () => {
  const secrets: Record<string, Record<string, unknown>> = {}
  for (let s = 0; s < SOURCES; s++)
    for (let f = 0; f < FOLDERS; f++)
      for (let k = 0; k < SECRETS; k++) secrets[`secret/src${s}/f${f}/k${k}`] = {s, f, k}
  stack = await startTestStack({vault: {secrets}})
  const runtime = recordingRuntime('info')
  reader = await connectVault({
    config: {
      address: stack.vault.url,
      namespace: '',
      auth: {method: 'token', token: stack.vault.rootToken},
      concurrency: 16,
      timeout: 5000,
    },
    logger: runtime.logger,
    redactor: runtime.redactor,
    env: {},
    retry: {maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5},
    breakers: createBreakers(
      {enabled: false, failure_threshold: 5, window: 10_000, timeout: 30_000, max_requests: 1},
      {logger: runtime.logger},
    ),
  })
})
afterAll(async () => stack.close())

describe('several sources sharing one Vault limiter', () => {
  it.each([1, 2, 4, 16])(
    'at concurrency %i every source reads all its secrets with exact call counts',
    async (concurrency) => {
      // Given 5 sources of 40 folders × 3 secrets and one limiter for every Vault request of the run
      const limit = pLimit(concurrency)
      const runtime = recordingRuntime('info')
      stack.controls.resetCounters()
      // When they are walked at once
      let mostQueued = 0
      const watching: VaultReader = {
        resolveMount: (path) => reader.resolveMount(path),
        list: (mount, folder) => reader.list(mount, folder),
        read: (mount, key) => {
          mostQueued = Math.max(mostQueued, limit.activeCount + limit.pendingCount)
          return reader.read(mount, key)
        },
      }
      const results = await Promise.all(
        Array.from({length: SOURCES}, (_, s) =>
          walkVaultTree(watching, {
            mount: 'secret/',
            root: `src${s}/`,
            maxSecrets: 100_000,
            maxDepth: 10,
            compactionThreshold: 5,
            limit,
            logger: runtime.logger,
          }),
        ),
      )
      // Then each one read every secret of its own tree, and nothing was listed or read twice
      for (const [s, result] of results.entries()) {
        expect(result.secrets.size, `source ${s}`).toBe(FOLDERS * SECRETS)
        expect(result.secrets.get(`f${FOLDERS - 1}/k${SECRETS - 1}`)).toEqual({s, f: FOLDERS - 1, k: SECRETS - 1})
      }
      expect(stack.controls.count({service: 'vault', operation: 'list'})).toBe(SOURCES * (1 + FOLDERS))
      expect(stack.controls.count({service: 'vault', operation: 'read'})).toBe(SOURCES * FOLDERS * SECRETS)
      expect(limit.activeCount + limit.pendingCount).toBe(0)
      // ... and no walk handed the shared limiter more than its own window of `concurrency` requests
      expect(mostQueued).toBeLessThanOrEqual(SOURCES * concurrency)
      for (const result of results)
        expect(result.books).toEqual({
          folders: {found: 1 + FOLDERS, listed: 1 + FOLDERS, skipped: 0, failed: 0},
          secrets: {found: FOLDERS * SECRETS, read: FOLDERS * SECRETS, skipped: 0, failed: 0},
        })
    },
  )
})

describe('the walk books', () => {
  const balanced = {
    folders: {found: 3, listed: 2, skipped: 1, failed: 0},
    secrets: {found: 5, read: 3, skipped: 1, failed: 1},
  }

  it('balance when everything found ended done, skipped or failed', () => {
    expect(() => checkBooks(balanced, 0, 'secret/a/')).not.toThrow()
  })

  it.each([
    ['work still queued', balanced, 2, '2 still queued'],
    [
      'a folder unaccounted for',
      {...balanced, folders: {...balanced.folders, found: 4}},
      0,
      'folders found 4 != listed 2 + skipped 1 + failed 0',
    ],
    [
      'a key unaccounted for',
      {...balanced, secrets: {...balanced.secrets, read: 2}},
      0,
      'keys found 5 != read 2 + skipped 1 + failed 1',
    ],
  ])('fail loudly with %s', (_case, books, queued, text) => {
    expect(() => checkBooks(books, queued, 'secret/a/')).toThrow(WalkAccountingError)
    expect(() => checkBooks(books, queued, 'secret/a/')).toThrow(text)
  })
})
