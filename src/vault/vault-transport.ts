import {request as httpRequest, type Agent as HttpAgent, type IncomingMessage} from 'node:http'
import {request as httpsRequest, type Agent as HttpsAgent} from 'node:https'

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

/** What node-vault's response handling reads: status, parsed body and the request path. */
interface TransportResponse {
  statusCode: number
  body: unknown
  request: {path: string}
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
  /** The exact response text a body was parsed from; undefined for bodies that are not JSON objects or arrays. */
  textOf(body: unknown): string | undefined
  /** A response's `Retry-After` header (node-vault's errors keep only status and body), by its parsed body. */
  retryAfterOf(body: unknown): string | undefined
}

// Vault redirects a request to the active node (307) when a standby does not forward it; a few hops at most.
const REDIRECTS = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 5

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
  const texts = new WeakMap<object, string>()
  const retryAfters = new WeakMap<object, string>()

  const send = async (request: TransportRequest): Promise<TransportResponse> => {
    const payload = request.json !== null && typeof request.json === 'object' ? JSON.stringify(request.json) : undefined
    let url = new URL(request.uri)
    let method = request.method.toUpperCase()
    let body = payload
    for (let hop = 0; ; hop++) {
      const response = await exchange(url, method, request, body)
      const location = response.headers.location
      if (!REDIRECTS.has(response.statusCode) || location === undefined || hop >= MAX_REDIRECTS) {
        const text = response.text
        let parsed: unknown = text
        try {
          // JSON when it parses, the text otherwise (an empty 204 stays ''), as node-vault's transport gives it.
          if (text.trim() !== '') parsed = JSON.parse(text)
        } catch {
          parsed = text
        }
        if (parsed !== null && typeof parsed === 'object') {
          texts.set(parsed, text)
          const retryAfter = response.headers['retry-after']
          if (typeof retryAfter === 'string') retryAfters.set(parsed, retryAfter)
        }
        return {statusCode: response.statusCode, body: parsed, request: {path: url.pathname}}
      }
      url = new URL(location, url)
      // 303 (and 301/302 for anything but GET, as clients do) continue as a GET without a body.
      if (
        response.statusCode === 303 ||
        ((response.statusCode === 301 || response.statusCode === 302) && method !== 'GET')
      ) {
        method = 'GET'
        body = undefined
      }
    }
  }

  return {
    requestPromise: {defaults: () => send},
    get: (client, path, options) => {
      const headers: Record<string, string> = {}
      if (typeof client.token === 'string' && client.token.length > 0) headers['X-Vault-Token'] = client.token
      if (typeof client.namespace === 'string' && client.namespace.length > 0)
        headers['X-Vault-Namespace'] = client.namespace
      const prefix = (client as {pathPrefix?: unknown}).pathPrefix
      return send({
        method: 'GET',
        uri: `${client.endpoint}/${client.apiVersion}${typeof prefix === 'string' ? prefix : ''}/${path}`,
        headers,
        ...options,
      })
    },
    textOf: (body) => (body !== null && typeof body === 'object' ? texts.get(body) : undefined),
    retryAfterOf: (body) => (body !== null && typeof body === 'object' ? retryAfters.get(body) : undefined),
  }
}

interface Exchanged {
  statusCode: number
  headers: IncomingMessage['headers']
  text: string
}

/** One HTTP exchange: the whole response body as text, whatever the status. */
function exchange(url: URL, method: string, request: TransportRequest, body: string | undefined): Promise<Exchanged> {
  const https = url.protocol === 'https:'
  const headers: Record<string, string | number> = {
    Accept: 'application/json, text/plain, */*',
    ...request.headers,
  }
  if (body !== undefined) {
    headers['Content-Type'] ??= 'application/json'
    headers['Content-Length'] = Buffer.byteLength(body)
  }
  return new Promise<Exchanged>((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      url,
      {method, headers, agent: https ? request.httpsAgent : request.httpAgent},
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            statusCode: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        )
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
