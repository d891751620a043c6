import axios, {type AxiosInstance} from 'axios'
import type {Agent as HttpAgent} from 'node:http'
import type {Agent as HttpsAgent} from 'node:https'

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

export interface VaultTransport {
  /** Pass as node-vault's `request-promise` option: node-vault calls `.defaults(...)` and then the result per request. */
  requestPromise: {defaults(defaults: unknown): (request: TransportRequest) => Promise<TransportResponse>}
  /** The exact response text a body was parsed from; undefined for bodies that are not JSON objects or arrays. */
  textOf(body: unknown): string | undefined
  /** A response's `Retry-After` header (node-vault's errors keep only status and body), by its parsed body. */
  retryAfterOf(body: unknown): string | undefined
}

/**
 * node-vault's HTTP transport, as its `request-promise` hook allows, on the same axios it uses itself, with one
 * difference: it keeps the response text. node-vault parses every body with JSON.parse, which rounds numbers
 * (`1152921504606846977` → `1152921504606847000`, `1e400` → Infinity); secret data is re-read from the text
 * losslessly. Bodies are still parsed as node-vault expects, so login, renewal and errors work unchanged.
 */
export function createVaultTransport(): VaultTransport {
  const texts = new WeakMap<object, string>()
  const retryAfters = new WeakMap<object, string>()
  // Every status resolves (node-vault turns non-2xx into errors itself); the body stays text.
  const instance: AxiosInstance = axios.create({
    validateStatus: () => true,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
  })

  const send = async (request: TransportRequest): Promise<TransportResponse> => {
    const response = await instance.request<string>({
      method: request.method,
      url: request.uri,
      headers: {...request.headers},
      ...(request.json !== null && typeof request.json === 'object' ? {data: request.json} : {}),
      ...(request.timeout !== undefined ? {timeout: request.timeout} : {}),
      ...(request.httpAgent ? {httpAgent: request.httpAgent} : {}),
      ...(request.httpsAgent ? {httpsAgent: request.httpsAgent} : {}),
    })
    const text = typeof response.data === 'string' ? response.data : ''
    let body: unknown = text
    try {
      // As axios does for node-vault: JSON when it parses, the text otherwise (an empty 204 stays '').
      if (text.trim() !== '') body = JSON.parse(text)
    } catch {
      body = text
    }
    if (body !== null && typeof body === 'object') {
      texts.set(body, text)
      const retryAfter: unknown = response.headers['retry-after']
      if (typeof retryAfter === 'string') retryAfters.set(body, retryAfter)
    }
    return {statusCode: response.status, body, request: {path: pathOf(request.uri)}}
  }

  return {
    requestPromise: {defaults: () => send},
    textOf: (body) => (body !== null && typeof body === 'object' ? texts.get(body) : undefined),
    retryAfterOf: (body) => (body !== null && typeof body === 'object' ? retryAfters.get(body) : undefined),
  }
}

function pathOf(uri: string): string {
  try {
    return new URL(uri).pathname
  } catch {
    return uri
  }
}
