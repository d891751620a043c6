import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Controls} from '../controls.js'
import {applyTransportDecision, readBody} from '../http-server.js'
import {authRoute} from './auth-routes.js'
import {parseVaultJson, stringifyVaultJson} from './exact-json.js'
import {healthRoute} from './health-route.js'
import {kvRoute} from './kv-routes.js'
import {uiMountsRoute} from './mounts-routes.js'
import {Acl} from './policy.js'
import {
  badRequest,
  invalidToken,
  missingToken,
  multiError,
  noHandler,
  permissionDenied,
  unsupportedPath,
  VaultError,
  type VaultResponse,
} from './responses.js'
import {failingRoute, type Route, type RouteContext, type RouteInput} from './route.js'
import type {NamespaceState, VaultState} from './state.js'
import type {TokenRecord, TokenStore} from './tokens.js'

export interface HandlerDeps {
  state: VaultState
  tokens: TokenStore
  controls: Controls
  /** Pre-1.16 answers for dead tokens: plain "permission denied". */
  legacyTokenErrors?: boolean
}

const UI_MOUNTS = 'sys/internal/ui/mounts'

/** Go's `strconv.ParseBool`, which Vault uses for `?list=`. */
const parseBool = (value: string | null): boolean =>
  value !== null && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)

function route(deps: HandlerDeps, ns: NamespaceState, path: string, input: RouteInput): Route {
  if (path === 'sys/health') return healthRoute(input)
  if (path === UI_MOUNTS || path.startsWith(`${UI_MOUNTS}/`)) {
    return uiMountsRoute(deps.state, ns, path.slice(UI_MOUNTS.length), input)
  }
  if (path.startsWith('auth/')) return authRoute(deps.state, deps.tokens, ns, path.slice('auth/'.length), input)
  const mount = deps.state.matchMount(ns, input.list && !path.endsWith('/') ? `${path}/` : path)
  if (!mount) return failingRoute(path, input, () => noHandler(path))
  if (!mount.kv) return failingRoute(path, input, unsupportedPath)
  return kvRoute({path: mount.path, kv: mount.kv}, path.slice(mount.path.length), input)
}

function tokenFrom(req: IncomingMessage): string | undefined {
  const header = req.headers['x-vault-token']
  if (typeof header === 'string' && header !== '') return header
  const authorization = req.headers.authorization
  return authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length).trim() : undefined
}

/** Checks the token (and its ACL when the route names a capability) the way Vault does before routing. */
function authorize(
  deps: HandlerDeps,
  req: IncomingMessage,
  ns: NamespaceState,
  chosen: Route,
): Pick<RouteContext, 'token' | 'acl' | 'aclPrefix'> {
  if (chosen.access.kind === 'none') return {aclPrefix: ''}
  const id = tokenFrom(req)
  if (id === undefined) throw missingToken()
  const token: TokenRecord | undefined = deps.tokens.lookup(id)
  // A token only exists in its own namespace and those below it.
  if (!token || !ns.path.startsWith(token.namespace)) throw deps.legacyTokenErrors ? missingToken() : invalidToken()
  const aclPrefix = ns.path.slice(token.namespace.length)
  const acl = new Acl(token.policies, token.root)
  if (chosen.access.kind === 'acl' && !acl.allows(aclPrefix + chosen.access.path, chosen.access.capability)) {
    throw permissionDenied()
  }
  return {token, acl, aclPrefix}
}

function parseJson(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {}
  let parsed: unknown
  try {
    parsed = parseVaultJson(body.toString('utf8'))
  } catch (error) {
    throw badRequest(`failed to parse JSON input: ${(error as Error).message}`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badRequest('failed to parse JSON input: json: cannot unmarshal into Go value of type map[string]interface {}')
  }
  return parsed as Record<string, unknown>
}

function send(res: ServerResponse, response: VaultResponse, extraHeaders: Record<string, string> = {}): void {
  const headers = {'content-type': 'application/json', 'cache-control': 'no-store', ...extraHeaders}
  if (response.body === undefined) {
    res.writeHead(response.status, headers).end()
    return
  }
  // Vault encodes with Go's json.Encoder, which ends every body with a newline.
  res.writeHead(response.status, headers).end(`${stringifyVaultJson(response.body)}\n`)
}

const errorResponse = (error: VaultError): VaultResponse => ({status: error.status, body: {errors: error.errors}})

/**
 * Answers one request: resolve namespace and route, consult the controls (latency, faults, quotas, counters),
 * authenticate and authorize, then run the route.
 */
export async function handleVaultRequest(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req)
  const url = new URL(req.url ?? '/', 'http://vault.invalid')
  if (!url.pathname.startsWith('/v1/')) return send(res, errorResponse(new VaultError(404, [])))
  let rawPath: string
  try {
    rawPath = decodeURIComponent(url.pathname.slice('/v1/'.length))
  } catch {
    return send(res, errorResponse(badRequest('invalid URL escape in request path')))
  }
  const method = req.method ?? 'GET'
  const input: RouteInput = {
    method,
    list: method === 'GET' && parseBool(url.searchParams.get('list')),
    query: url.searchParams,
  }
  const header = req.headers['x-vault-namespace']
  const {namespace, path} = deps.state.resolve(typeof header === 'string' ? header : undefined, rawPath)
  const chosen = route(deps, namespace, path, input)

  const decision = deps.controls.decide({service: 'vault', operation: chosen.operation, account: '-', region: '-'})
  if (!(await applyTransportDecision(decision, req, res))) return
  if (decision.kind === 'throttle') {
    // Vault's rate-limit quota answer (http/handler.go wraps quotas.ErrRateLimitQuotaExceeded with the path), with
    // the quota's headers when enable_rate_limit_response_headers is set (quotas/quotas_rate_limit.go: whole
    // seconds, truncated).
    const seconds = String(Math.floor(decision.retryAfterMs / 1000))
    const headers: Record<string, string> = decision.quota.responseHeaders
      ? {
          'retry-after': seconds,
          'x-ratelimit-limit': String(decision.quota.burst ?? decision.quota.ratePerSecond),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': seconds,
        }
      : {}
    return send(
      res,
      errorResponse(new VaultError(429, [`request path ${JSON.stringify(path)}: rate limit quota exceeded`])),
      headers,
    )
  }
  if (decision.kind === 'fault') return send(res, errorResponse(new VaultError(decision.status, ['internal error'])))

  try {
    const context: RouteContext = {namespace, body: parseJson(body), query: url.searchParams, aclPrefix: ''}
    Object.assign(context, authorize(deps, req, namespace, chosen))
    send(res, await chosen.handle(context))
  } catch (error) {
    if (error instanceof VaultError) return send(res, errorResponse(error))
    send(res, errorResponse(new VaultError(500, [multiError((error as Error).message)])))
  }
}
