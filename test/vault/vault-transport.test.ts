import {createServer, Agent, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {createVaultTransport} from '../../src/vault/vault-transport.js'

// The transport addresses requests from a per-origin cache instead of parsing a URL per request (issue 12): what
// reaches the server must be what `new URL` would have sent, for every path the client can build and some it
// never builds (raw spaces, dot segments, unicode, a fragment).

interface Seen {
  method: string
  url: string
  host: string | undefined
  token: string | undefined
}

let server: Server | undefined
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

async function start(): Promise<{base: string; seen: Seen[]}> {
  const seen: Seen[] = []
  server = createServer((req, res) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      host: req.headers.host,
      token: req.headers['x-vault-token'] as string | undefined,
    })
    if (req.url === '/v1/moved') {
      res.writeHead(307, {location: '/v1/secret/data/landed?x=1'}).end()
      return
    }
    res.writeHead(200, {'content-type': 'application/json'}).end(`{ "data" : {"path": ${JSON.stringify(req.url)}} }`)
  })
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return {base: `http://127.0.0.1:${(server?.address() as AddressInfo).port}`, seen}
}

const PATHS = [
  'secret/data/plain',
  'secret/metadata/folder?list=true',
  'secret/data/a%20b',
  'secret/data/a%2Fb',
  "secret/data/it's(1)!*~",
  'secret/data/a b',
  'secret/data/ünï',
  'secret/data/./x/../y',
  'secret/data/x/..',
  'secret/data/q?a=it\'s"<>',
  'secret/data/pipe|brace{}`',
  'secret/data/frag#ment',
  'secret/data/.hidden/..dots/x.',
]

describe('vault transport addressing', () => {
  it('sends each path exactly as a parsed URL would, with host and token headers', async () => {
    const {base, seen} = await start()
    const transport = createVaultTransport()
    const agent = new Agent({keepAlive: true, maxSockets: 2})
    const client = {endpoint: base, apiVersion: 'v1', token: 'tok-1234'}
    for (const path of PATHS) {
      const response = await transport.get(client, path, {httpAgent: agent, timeout: 5000})
      const expected = new URL(`${base}/v1/${path}`)
      expect(seen.at(-1)).toEqual({
        method: 'GET',
        url: `${expected.pathname}${expected.search}`,
        host: expected.host,
        token: 'tok-1234',
      })
      expect(response.statusCode).toBe(200)
      expect(response.request.path).toBe(expected.pathname)
      // The text as the server wrote it (spaces included), and the body parsed from it.
      expect(response.text).toBe(`{ "data" : {"path": ${JSON.stringify(seen.at(-1)?.url)}} }`)
      expect(response.body).toEqual({data: {path: seen.at(-1)?.url}})
    }
    agent.destroy()
  })

  it('addresses each request to its own origin when origins alternate', async () => {
    const {base, seen} = await start()
    const port = new URL(base).port
    const transport = createVaultTransport()
    // Same server under two names; the host header tells which origin each request was sent to.
    const endpoints = [base, `http://localhost:${port}`, base, `http://LOCALHOST:${port}`]
    for (const endpoint of endpoints) await transport.get({endpoint, apiVersion: 'v1'}, 'secret/data/x', {})
    expect(seen.map((request) => request.host)).toEqual([
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `localhost:${port}`,
    ])
  })

  it('follows a redirect to the location it names', async () => {
    const {base, seen} = await start()
    const transport = createVaultTransport()
    const response = await transport.get({endpoint: base, apiVersion: 'v1'}, 'moved', {})
    expect(seen.map((request) => request.url)).toEqual(['/v1/moved', '/v1/secret/data/landed?x=1'])
    expect(response.request.path).toBe('/v1/secret/data/landed')
    expect(response.body).toEqual({data: {path: '/v1/secret/data/landed?x=1'}})
  })
})
