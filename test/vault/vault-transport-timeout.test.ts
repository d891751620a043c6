import {createServer, Agent, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {createVaultTransport} from '../../src/vault/vault-transport.js'

// The transport's request timeout is an idle timeout, as axios' was: a request that gets nothing back for `timeout`
// fails with ECONNABORTED, and one whose answer keeps arriving, however long it takes in all, does not.

let server: Server | undefined
const held: ServerResponse[] = []
afterEach(async () => {
  for (const res of held.splice(0)) res.destroy()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

async function start(handler: (url: string, res: ServerResponse) => void): Promise<string> {
  server = createServer((req, res) => handler(req.url ?? '', res))
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server?.address() as AddressInfo).port}`
}

const failureOf = (promise: Promise<unknown>): Promise<{code?: string; message: string}> =>
  promise.then(
    () => {
      throw new Error('expected the request to fail')
    },
    (error: unknown) => error as {code?: string; message: string},
  )

describe('vault transport timeout', () => {
  it('fails a request that gets no answer with ECONNABORTED, and the next request on the same agent works', async () => {
    const endpoint = await start((url, res) => {
      if (url.endsWith('/hang')) held.push(res)
      else res.writeHead(200, {'content-type': 'application/json'}).end('{"data":{"ok":true}}')
    })
    const transport = createVaultTransport()
    const agent = new Agent({keepAlive: true, maxSockets: 2})

    const hung = await failureOf(transport.get({endpoint, apiVersion: 'v1'}, 'hang', {httpAgent: agent, timeout: 150}))
    expect(hung.code).toBe('ECONNABORTED')
    expect(hung.message).toBe('timeout of 150ms exceeded')

    const next = await transport.get({endpoint, apiVersion: 'v1'}, 'ok', {httpAgent: agent, timeout: 150})
    expect(next.body).toEqual({data: {ok: true}})
    agent.destroy()
  })

  it('times idleness, not the whole exchange: an answer arriving in pieces closer than the timeout succeeds', async () => {
    const pieces = ['{"data":', '{"slow":', '"but', ' ', 'steady', ' ', 'all', ' ', 'along"', '}}']
    const endpoint = await start((_url, res) => {
      res.writeHead(200, {'content-type': 'application/json'})
      let sent = 0
      // Ten gaps of 100 ms: 1 s in all against a 700 ms timeout, and each gap a seventh of it, so a loaded machine
      // has room before a gap looks idle.
      const tick = setInterval(() => {
        res.write(pieces[sent++])
        if (sent === pieces.length) {
          clearInterval(tick)
          res.end()
        }
      }, 100)
    })
    const transport = createVaultTransport()

    const response = await transport.get({endpoint, apiVersion: 'v1'}, 'slow', {timeout: 700})

    expect(response.body).toEqual({data: {slow: 'but steady all along'}})
  })

  it('fails an answer that stops arriving halfway', async () => {
    const endpoint = await start((_url, res) => {
      res.writeHead(200, {'content-type': 'application/json'})
      res.write('{"data":')
      held.push(res)
    })
    const transport = createVaultTransport()

    const stalled = await failureOf(transport.get({endpoint, apiVersion: 'v1'}, 'stalls', {timeout: 150}))

    expect(stalled.code).toMatch(/^(ECONNABORTED|ECONNRESET)$/)
  })
})
