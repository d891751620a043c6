import {readFileSync} from 'node:fs'
import {createServer, Agent, type Server} from 'node:http'
import {Agent as HttpsAgent} from 'node:https'
import type {AddressInfo} from 'node:net'
import {join, resolve} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {isRetryableVaultError} from '../../src/vault/vault-errors.js'
import {createVaultTransport, REDIRECT_REFUSED} from '../../src/vault/vault-transport.js'
import {listen, type RunningServer, type ServerTls} from '../support/http-server.js'

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

// Redirects, their limit and the timeout, against real servers. Vault answers 307 from a standby that does not
// forward a request; Vault's own Go client follows one redirect, refusing one from https to http.

interface Heard {
  origin: string
  url: string
  token: string | undefined
}

const TLS_DIR = resolve(import.meta.dirname, '../support/fixtures/tls')
const running: RunningServer[] = []
afterEach(async () => {
  for (const one of running.splice(0)) await one.close()
})

/** A server that records what reaches it and answers with `answer` (a status and headers, or nothing: it hangs). */
async function serve(
  heard: Heard[],
  answer: (url: string) => {status: number; headers?: Record<string, string>} | 'hang',
  tls?: ServerTls,
): Promise<RunningServer> {
  const started = await listen(
    (req, res) => {
      heard.push({
        origin: `${tls ? 'https' : 'http'}://${req.headers.host ?? ''}`,
        url: req.url ?? '',
        token: req.headers['x-vault-token'] as string | undefined,
      })
      const decided = answer(req.url ?? '')
      if (decided === 'hang') return
      res.writeHead(decided.status, {'content-type': 'application/json', ...decided.headers}).end('{"data":{}}')
    },
    0,
    tls,
  )
  running.push(started)
  return started
}

describe('vault transport redirects', () => {
  it('a redirect on the same origin is followed with the token', async () => {
    const heard: Heard[] = []
    const vault = await serve(heard, (url) =>
      url === '/v1/standby' ? {status: 307, headers: {location: '/v1/active'}} : {status: 200},
    )
    const response = await createVaultTransport().get(
      {endpoint: vault.url, apiVersion: 'v1', token: 'tok-same'},
      'standby',
      {},
    )
    expect(response.statusCode).toBe(200)
    expect(heard.map(({url, token}) => [url, token])).toEqual([
      ['/v1/standby', 'tok-same'],
      ['/v1/active', 'tok-same'],
    ])
  })

  const tlsFiles = () => ({
    cert: readFileSync(join(TLS_DIR, 'server.pem'), 'utf8'),
    key: readFileSync(join(TLS_DIR, 'server.key'), 'utf8'),
  })

  /** The transport's rejection of a read through `vault`, which must fail. */
  async function refusedRead(vault: {url: string}, token: string, options = {}): Promise<Error & {code?: string}> {
    try {
      await createVaultTransport().get({endpoint: vault.url, apiVersion: 'v1', token}, 'secret/data/x', options)
    } catch (error) {
      return error as Error & {code?: string}
    }
    throw new Error('expected the read to be refused, it was answered')
  }

  it('a redirect to another server over plain http is refused: the token never goes there', async () => {
    // Given a Vault over http whose answer redirects to another server (another port), also over http
    const heard: Heard[] = []
    const elsewhere = await serve(heard, () => ({status: 200}))
    const vault = await serve(heard, () => ({status: 307, headers: {location: `${elsewhere.url}/v1/secret/data/x`}}))

    // When the client reads through it
    const error = await refusedRead(vault, 'tok-cross')

    // Then the read fails naming both servers, is not retried, and the other server heard nothing
    expect(error.code).toBe(REDIRECT_REFUSED)
    expect(error.message).toContain(`Vault at ${vault.url} redirected the request to ${elsewhere.url}`)
    expect(error.message).toContain('not followed')
    expect(isRetryableVaultError(error)).toBe(false)
    expect(heard.map((request) => request.origin)).toEqual([vault.url])
  })

  it("a redirect from https to http is refused, as Vault's own client refuses a downgrade", async () => {
    const heard: Heard[] = []
    const plain = await serve(heard, () => ({status: 200}))
    const vault = await serve(
      heard,
      () => ({status: 307, headers: {location: `${plain.url}/v1/secret/data/x`}}),
      tlsFiles(),
    )
    const httpsAgent = new HttpsAgent({ca: readFileSync(join(TLS_DIR, 'ca.pem'), 'utf8')})

    const error = await refusedRead(vault, 'tok-tls', {httpsAgent})
    httpsAgent.destroy()

    expect(error.code).toBe(REDIRECT_REFUSED)
    expect(error.message).toContain('from https to plain http')
    expect(heard).toEqual([expect.objectContaining({origin: vault.url, token: 'tok-tls'})])
  })

  it('a redirect to another server over https is followed with the token (a standby naming the active node)', async () => {
    // Given a standby over https whose answer names the active node, another origin, also over https
    const heard: Heard[] = []
    const active = await serve(heard, () => ({status: 200}), tlsFiles())
    const standby = await serve(
      heard,
      () => ({status: 307, headers: {location: `${active.url}/v1/secret/data/x`}}),
      tlsFiles(),
    )
    const httpsAgent = new HttpsAgent({ca: readFileSync(join(TLS_DIR, 'ca.pem'), 'utf8')})

    // When the client reads through the standby
    const response = await createVaultTransport().get(
      {endpoint: standby.url, apiVersion: 'v1', token: 'tok-ha'},
      'secret/data/x',
      {httpsAgent},
    )
    httpsAgent.destroy()

    // Then the active node answered, and heard the token over TLS
    expect(response.statusCode).toBe(200)
    expect(heard.map(({origin, token}) => [origin, token])).toEqual([
      [standby.url, 'tok-ha'],
      [active.url, 'tok-ha'],
    ])
  })

  it('follows at most 5 redirects, then hands back the last redirect response', async () => {
    // Given a Vault that redirects every request to the next one
    const heard: Heard[] = []
    const vault = await serve(heard, (url) => ({
      status: 307,
      headers: {location: `/v1/hop/${Number(/(\d+)$/.exec(url)?.[1] ?? 0) + 1}`},
    }))

    // When the client reads
    const response = await createVaultTransport().get({endpoint: vault.url, apiVersion: 'v1'}, 'hop/0', {})

    // Then the first request and five redirects were sent, no more, and the 307 is the answer (an error to node-vault)
    expect(heard.map((request) => request.url)).toEqual([0, 1, 2, 3, 4, 5].map((n) => `/v1/hop/${n}`))
    expect(response.statusCode).toBe(307)
    expect(response.request.path).toBe('/v1/hop/5')
  })
})

describe('vault transport timeout', () => {
  it('a request unanswered for `timeout` fails with ECONNABORTED, and the next request on the agent still works', async () => {
    // Given a Vault that never answers one path
    const heard: Heard[] = []
    const vault = await serve(heard, (url) => (url === '/v1/hung' ? 'hang' : {status: 200}))
    const transport = createVaultTransport()
    const agent = new Agent({keepAlive: true, maxSockets: 1})
    const client = {endpoint: vault.url, apiVersion: 'v1', token: 'tok-t'}

    // When it is read with a timeout
    const failed = await transport.get(client, 'hung', {timeout: 200, httpAgent: agent}).then(
      () => undefined,
      (error: unknown) => error as NodeJS.ErrnoException,
    )

    // Then it fails as axios did (node-vault and the retry policy read the code), and the agent is not left stuck
    expect(failed?.code).toBe('ECONNABORTED')
    expect(failed?.message).toBe('timeout of 200ms exceeded')
    const next = await transport.get(client, 'secret/data/x', {timeout: 5000, httpAgent: agent})
    expect(next.statusCode).toBe(200)
    expect(heard.map((request) => request.url)).toEqual(['/v1/hung', '/v1/secret/data/x'])
    agent.destroy()
  })
})
