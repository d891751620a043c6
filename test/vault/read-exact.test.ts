import {afterEach, describe, expect, it} from 'vitest'
import {createBreakers} from '../../src/resilience/breakers.js'
import {stringifyJson} from '../../src/util/exact-json.js'
import {connectVault} from '../../src/vault/vault-client.js'
import {recordingRuntime} from '../support/runtime.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// The Vault client hands the walk a secret's data exactly as Vault's response text holds it (issue 10 defect 6,
// issue 17 item 7): node-vault's own JSON.parse would round the numbers and cannot be told not to.

let stack: TestStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

const DATA =
  '{"__proto__":{"token":"t"},"constructor":"c","id":1152921504606846977,"huge":1e400,"wide":12345678901234567890123456789,"pi":3.14159265358979323846264338327950288,"zero":-0,"one":1.0,"port":5432}'

async function connect(s: TestStack) {
  const runtime = recordingRuntime()
  const breakers = createBreakers(
    {enabled: false, failure_threshold: 5, window: 10_000, timeout: 30_000, max_requests: 1},
    {logger: runtime.logger},
  )
  const config = {
    address: s.vault.url,
    namespace: '',
    auth: {method: 'token' as const, token: s.vault.rootToken},
    concurrency: 4,
    timeout: 5000,
  }
  return connectVault({
    config,
    logger: runtime.logger,
    redactor: runtime.redactor,
    env: {},
    retry: {maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5},
    breakers,
  })
}

describe('Vault reads are exact', () => {
  it('Given a secret written with big numbers and prototype-named keys, when read, its data serialises to the very same text', async () => {
    stack = await startTestStack({vault: {secrets: {'secret/seed': {a: 1}}}})
    const headers = {'x-vault-token': stack.vault.rootToken, 'content-type': 'application/json'}
    expect(
      (await fetch(`${stack.vault.url}/v1/secret/data/app/exact`, {method: 'POST', headers, body: `{"data":${DATA}}`}))
        .status,
    ).toBe(200)

    const read = await (await connect(stack)).read('secret/', 'app/exact')

    expect(read.kind).toBe('ok')
    if (read.kind !== 'ok') return
    expect(stringifyJson(read.data)).toBe(DATA)
    expect(Object.getPrototypeOf(read.data)).toBeNull()
  })

  it('lists, logins and ordinary reads still work through the text-keeping transport', async () => {
    stack = await startTestStack({vault: {secrets: {'secret/app/db': {user: 'u', port: 5432}}}})
    const reader = await connect(stack)
    expect(await reader.list('secret/', 'app/')).toEqual({kind: 'ok', keys: ['db']})
    expect(await reader.read('secret/', 'app/db')).toMatchObject({kind: 'ok', data: {user: 'u', port: 5432}})
    expect(await reader.read('secret/', 'app/none')).toEqual({kind: 'missing'})
  })
})
