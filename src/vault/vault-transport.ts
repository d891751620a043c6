import {request as httpRequest, type Agent as HttpAgent, type IncomingMessage} from 'node:http'
import {request as httpsRequest, type Agent as HttpsAgent} from 'node:https'
import {escapeUntrusted} from '../util/untrusted-text.js'

/** The request node-vault hands its transport (the request-promise options it was written for). */
interface TransportRequest {
  method: string
  uri: string
  headers?: Record<string, string>
  json?: unknown
  timeout?: number
  httpAgent?: HttpAgent
  httpsAgent?: HttpsAgent
}

/** What node-vault's response handling reads (status, parsed body, the request path), and the text it came from. */
export interface TransportResponse {
  statusCode: number
  body: unknown
  request: {path: string}
  /** The exact response text the body was parsed from (node-vault ignores it). */
  text: string
}

/** The node-vault client fields a GET is addressed and authenticated with. */
export interface VaultAddressing {
  endpoint: string
  apiVersion: string
  token?: string
  namespace?: string
}

export interface VaultTransport {
  /** Pass as node-vault's `request-promise` option: node-vault calls `.defaults(...)` and then the result per request. */
  requestPromise: {defaults(defaults: unknown): (request: TransportRequest) => Promise<TransportResponse>}
  /**
   * GETs `path` (below the API version) as node-vault's `read` sends it — the client's endpoint, token and
   * namespace, the configured timeout and agents — without node-vault's per-request pipeline (schema
   * validation, option copies, its promise chain): the walk's LISTs and reads are most of a run's requests.
   * The response goes back through node-vault's own handling (`client.handleVaultResponse`).
   */
  get(
    client: VaultAddressing,
    path: string,
    options: Pick<TransportRequest, 'timeout' | 'httpAgent' | 'httpsAgent'>,
  ): Promise<TransportResponse>
  /** A response's `Retry-After` header (node-vault's errors keep only status and body), by its parsed body. */
  retryAfterOf(body: unknown): string | undefined
}

// Vault redirects a request to the active node (307) when a standby does not forward it; a few hops at most.
const REDIRECTS = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 5

/** The code of a redirect the transport will not follow (not retried: the same answer would refuse it again). */
export const REDIRECT_REFUSED = 'ERR_REDIRECT_REFUSED'

/**
 * Why a redirect from `from` to `to` is not followed, or undefined when it is. A redirect carries the request's
 * headers, the Vault token among them, as Vault's own client does (a standby names the active node, another
 * origin), so it is followed only where the token stays as protected as it was: to https, or within the same
 * origin. From https to http (a downgrade, which Vault's client refuses too), or to another server over plain
 * http, the token would cross the network unencrypted or reach a server the config never named in clear text.
 */
export function redirectRefusal(from: string, to: URL): string | undefined {
  const source = new URL(from)
  if (to.protocol === 'https:' || to.origin === source.origin) return undefined
  const where = `Vault at ${escapeUntrusted(source.origin)} redirected the request to ${escapeUntrusted(to.protocol === 'http:' ? to.origin : `a ${to.protocol} URL`)}`
  return source.protocol === 'https:'
    ? `${where}, from https to plain http: not followed, it would send the token unencrypted (set vault.address to the node that answers)`
    : `${where}, another server over plain http: not followed, it would send the token there unencrypted (set vault.address to the node that answers)`
}

/**
 * node-vault's HTTP transport, as its `request-promise` hook allows, straight on node:http/https with the
 * keep-alive agents the client is configured with. Two differences from node-vault's own (axios) transport:
 * - It keeps the response text. node-vault parses every body with JSON.parse, which rounds numbers
 *   (`1152921504606846977` → `1152921504606847000`, `1e400` → Infinity); secret data is re-read from the text
 *   losslessly. Bodies are still parsed as node-vault expects, so login, renewal and errors work unchanged.
 * - No axios: a walk makes one request per folder and per secret, and axios' per-request machinery (config
 *   merging, header objects, follow-redirects, proxy lookup) cost more CPU than the HTTP exchange itself.
 *   What of it Vault needs stays: every status resolves (node-vault turns non-2xx into errors), redirects are
 *   followed, and a request idle for `timeout` fails with ECONNABORTED as axios' did. HTTP(S)_PROXY is not
 *   read (the AWS clients never did either).
 */
export function createVaultTransport(): VaultTransport {
  const retryAfters = new WeakMap<object, string>()

  const send = (request: TransportRequest): Promise<TransportResponse> => {
    const payload = request.json !== null && typeof request.json === 'object' ? JSON.stringify(request.json) : undefined
    const headers: Record<string, string | number> = Object.assign({Accept: ACCEPT}, request.headers)
    if (payload !== undefined) {
      headers['Content-Type'] ??= 'application/json'
      headers['Content-Length'] = Buffer.byteLength(payload)
    }
    return sendTo(request.uri, request.method.toUpperCase(), headers, request, payload, 0)
  }

  /** What an answer that is not a redirect to follow becomes: the body parsed as node-vault expects, and its text. */
  const answer = (response: Exchanged): TransportResponse => {
    const text = response.text
    let parsed: unknown = text
    try {
      // JSON when it parses, the text otherwise (an empty 204 stays ''), as node-vault's transport gives it.
      if (text.trim() !== '') parsed = JSON.parse(text)
    } catch {
      parsed = text
    }
    const retryAfter = response.headers['retry-after']
    if (typeof retryAfter === 'string' && parsed !== null && typeof parsed === 'object')
      retryAfters.set(parsed, retryAfter)
    return {statusCode: response.statusCode, body: parsed, request: {path: response.path}, text}
  }

  // Not an async loop: the answer is made in the exchange's own promise, so a request without a redirect (every one
  // of a walk) settles one promise, and a redirect hands on to the next hop's.
  const sendTo = (
    url: string,
    method: string,
    headers: Readonly<Record<string, string | number>>,
    request: Exchange,
    body: string | undefined,
    hop: number,
  ): Promise<TransportResponse> =>
    exchange(url, method, headers, request, body, (response) => {
      const location = response.headers.location
      if (!REDIRECTS.has(response.statusCode) || location === undefined || hop >= MAX_REDIRECTS) return answer(response)
      // 303 (and 301/302 for anything but GET, as clients do) continue as a GET without a body.
      const asGet =
        response.statusCode === 303 ||
        ((response.statusCode === 301 || response.statusCode === 302) && method !== 'GET')
      const next = new URL(location, url)
      const refusal = redirectRefusal(url, next)
      if (refusal !== undefined) throw Object.assign(new Error(refusal), {code: REDIRECT_REFUSED})
      return sendTo(
        next.href,
        asGet ? 'GET' : method,
        asGet ? withoutBodyHeaders(headers) : headers,
        request,
        asGet ? undefined : body,
        hop + 1,
      )
    })

  // A walk's GETs all carry the same headers: built once per token and namespace, not per request (node:http copies
  // them into the request, it never changes the object given).
  let getHeaders: {token: unknown; namespace: unknown; headers: Readonly<Record<string, string>>} | undefined
  const headersFor = (client: VaultAddressing): Readonly<Record<string, string>> => {
    if (getHeaders !== undefined && getHeaders.token === client.token && getHeaders.namespace === client.namespace)
      return getHeaders.headers
    const headers: Record<string, string> = {Accept: ACCEPT}
    if (typeof client.token === 'string' && client.token.length > 0) headers['X-Vault-Token'] = client.token
    if (typeof client.namespace === 'string' && client.namespace.length > 0)
      headers['X-Vault-Namespace'] = client.namespace
    getHeaders = {token: client.token, namespace: client.namespace, headers}
    return headers
  }

  return {
    requestPromise: {defaults: () => send},
    get: (client, path, options) => {
      const prefix = (client as {pathPrefix?: unknown}).pathPrefix
      return sendTo(
        `${client.endpoint}/${client.apiVersion}${typeof prefix === 'string' ? prefix : ''}/${path}`,
        'GET',
        headersFor(client),
        options,
        undefined,
        0,
      )
    },
    retryAfterOf: (body) => (body !== null && typeof body === 'object' ? retryAfters.get(body) : undefined),
  }
}

/** A redirected request's headers once it goes on as a GET without its body. */
const withoutBodyHeaders = (headers: Readonly<Record<string, string | number>>): Record<string, string | number> => {
  const rest: Record<string, string | number> = {}
  for (const [name, value] of Object.entries(headers))
    if (name !== 'Content-Type' && name !== 'Content-Length') rest[name] = value
  return rest
}

/** What an exchange takes from a request besides method, headers and body. */
type Exchange = Pick<TransportRequest, 'timeout' | 'httpAgent' | 'httpsAgent'>

interface Exchanged {
  statusCode: number
  headers: IncomingMessage['headers']
  /** The request's path (node-vault matches it for sys/health). */
  path: string
  text: string
}

/** Where a URL string sends a request, parsed once per origin: a walk sends thousands to the same one. */
interface Origin {
  https: boolean
  hostname: string
  port: string
  /** `user:password` from the URL, as node:http takes it from a URL. */
  auth: string | undefined
  /** The origin's length in the URL string: the path (and query) follow it. */
  length: number
}

const origins = new Map<string, Origin>()
// The longest prefix that can be an origin: scheme, `//` and the authority, up to the first `/`, `?` or `#` after it.
const ORIGIN = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/

// The origin of the previous request: the next one almost always has the same, and a prefix check finds it.
let last: {prefix: string; origin: Origin} | undefined
const startsWithOrigin = (url: string, prefix: string): boolean =>
  url.startsWith(prefix) && (url.length === prefix.length || '/?#'.includes(url.charAt(prefix.length)))

/** `url` split into origin and path the way `new URL` would, with the origin's parse cached. */
function target(url: string): {origin: Origin; path: string} {
  const hit = last !== undefined && startsWithOrigin(url, last.prefix) ? last : undefined
  const prefix = hit ? hit.prefix : ORIGIN.exec(url)?.[0]
  let origin = hit ? hit.origin : prefix === undefined ? undefined : origins.get(prefix)
  if (origin === undefined) {
    const parsed = new URL(prefix ?? url)
    origin = {
      https: parsed.protocol === 'https:',
      // node:http wants an IPv6 literal without its brackets.
      hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: parsed.port,
      auth:
        parsed.username || parsed.password
          ? `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`
          : undefined,
      length: prefix?.length ?? 0,
    }
    if (prefix === undefined) return {origin, path: `${parsed.pathname}${parsed.search}`}
    // A handful of origins per run (the Vault address, a redirect target); bounded anyway.
    if (origins.size < 64) origins.set(prefix, origin)
  }
  if (!hit && prefix !== undefined) last = {prefix, origin}
  // `new URL` normalises the path (dot segments, percent-encoding of spaces...); a path already in normal form
  // (every one the client builds: its segments are percent-encoded) is used as given.
  const rest = url.slice(origin.length)
  if (rest === '') return {origin, path: '/'}
  if (NORMAL_PATH.test(rest) && !DOT_SEGMENT.test(rest)) return {origin, path: rest}
  const parsed = new URL(url)
  return {origin, path: `${parsed.pathname}${parsed.search}`}
}

// A path and query `new URL` leaves as they are: only characters it never encodes there, no `#`.
const NORMAL_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*)?$/
const DOT_SEGMENT = /\/\.{1,2}(?:[/?]|$)/

// What node-vault's axios transport asked for.
const ACCEPT = 'application/json, text/plain, */*'

/**
 * One HTTP exchange: the whole response body as text, whatever the status, handed to `then` inside the exchange's
 * own promise (what `then` returns, a value or the next hop's promise, is what the promise settles with).
 */
function exchange<T>(
  url: string,
  method: string,
  headers: Readonly<Record<string, string | number>>,
  request: Exchange,
  body: string | undefined,
  then: (response: Exchanged) => T | Promise<T>,
): Promise<T> {
  const {origin, path} = target(url)
  const https = origin.https
  return new Promise<T>((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      {
        hostname: origin.hostname,
        port: origin.port,
        auth: origin.auth,
        path,
        method,
        headers,
        agent: https ? request.httpsAgent : request.httpAgent,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          try {
            resolve(
              then({
                statusCode: res.statusCode ?? 0,
                headers: res.headers,
                path: path.includes('?') ? path.slice(0, path.indexOf('?')) : path,
                // Most answers arrive in one chunk: decoded as it is, without a concatenated copy first.
                text: (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8'),
              }),
            )
          } catch (error) {
            reject(error as Error)
          }
        })
        res.on('error', reject)
      },
    )
    if (request.timeout !== undefined && request.timeout > 0) {
      const timeout = request.timeout
      req.setTimeout(timeout, () =>
        req.destroy(Object.assign(new Error(`timeout of ${timeout}ms exceeded`), {code: 'ECONNABORTED'})),
      )
    }
    req.on('error', reject)
    req.end(body)
  })
}
