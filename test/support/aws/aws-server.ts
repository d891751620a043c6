import {randomBytes, randomUUID} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {Controls} from '../controls.js'
import {applyTransportDecision, listen, readBody} from '../http-server.js'
import {InMemoryCredentialRegistry, rootIdentity} from './credentials.js'
import {authError, protocolOf, renderError, serverFaultError, throttleError, type WireProtocol} from './error-render.js'
import {createOrganizationsService, type OrganizationsState} from './organizations.js'
import {authenticate} from './request-auth.js'
import {createS3Service, type S3State} from './s3.js'
import {routeS3} from './s3-request.js'
import {createSecretsManagerService, type SecretsManagerState} from './secrets-manager.js'
import {createIdentityStoreService} from './identity-store.js'
import {createSsoAdminService, type SsoAdminState} from './sso-admin.js'
import {createStsService, type StsState} from './sts.js'
import {
  AwsError,
  type AwsContext,
  type AwsRequest,
  type AwsResponse,
  type AwsService,
  type AwsServiceHandler,
  type CredentialRegistry,
  type IssuedCredentials,
} from './types.js'

export interface AwsServerOptions {
  /** 0 or unset: any free port. */
  port?: number
  controls?: Controls
  now?: () => number
  /** Account of the base credentials (default `000000000000`). */
  baseAccountId?: string
  /** Long-term credentials registered at start (default `test`/`test`). */
  baseCredentials?: {accessKeyId: string; secretAccessKey: string}
}

/**
 * Sees each request after authentication and the controls, before its service: what IAM does in front of AWS.
 * It may answer itself (throw an AwsError such as AccessDeniedException), pass the request on with `next`, or
 * rework the request or the response (e.g. per-secret denials in a BatchGetSecretValue answer).
 */
export type AwsInterceptor = (req: AwsRequest, next: (req: AwsRequest) => Promise<AwsResponse>) => Promise<AwsResponse>

export interface AwsServer {
  url: string
  port: number
  controls: Controls
  credentials: CredentialRegistry
  base: IssuedCredentials
  close(): Promise<void>
  sts: StsState
  s3: S3State
  secretsManager: SecretsManagerState
  organizations: OrganizationsState
  ssoAdmin: SsoAdminState
  /** Puts an interceptor in front of every service (undefined removes it). */
  intercept(interceptor: AwsInterceptor | undefined): void
}

/** JSON 1.1 services name themselves in `X-Amz-Target: <prefix>.<Operation>`. */
const TARGET_PREFIXES: Record<string, AwsService> = {
  secretsmanager: 'secretsmanager',
  AWSOrganizationsV20161128: 'organizations',
  SWBExternalService: 'sso-admin',
  AWSIdentityStore: 'identitystore',
}

type Route = {service: AwsService; operation: string; form: URLSearchParams} | {unknownTarget: string}

const headerOf = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Routes by protocol: JSON target header, then the STS query protocol (`Action=`), and S3 REST for the rest. */
function routeRequest(req: IncomingMessage, url: URL, path: string, body: Buffer): Route {
  const target = headerOf(req, 'x-amz-target')
  if (target !== undefined) {
    const dot = target.lastIndexOf('.')
    const service = TARGET_PREFIXES[target.slice(0, dot)]
    return service ? {service, operation: target.slice(dot + 1), form: new URLSearchParams()} : {unknownTarget: target}
  }
  const isForm = (headerOf(req, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded')
  const form = req.method === 'POST' && isForm ? new URLSearchParams(body.toString('utf8')) : new URLSearchParams()
  if (form.has('Action') || (req.method === 'GET' && url.searchParams.has('Action'))) {
    for (const [name, value] of url.searchParams) if (!form.has(name)) form.append(name, value)
    return {service: 'sts', operation: form.get('Action') ?? '', form}
  }
  const {operation} = routeS3(req.method ?? 'GET', path, url.searchParams, headerOf(req, 'host'))
  return {service: 's3', operation, form: new URLSearchParams()}
}

/** The secret a JSON request names, for faults scoped to one resource; empty when there is none or the body is bad. */
function secretIdOf(protocol: WireProtocol, raw: Buffer): string {
  if (protocol !== 'json') return ''
  try {
    const json = parseJsonBody(raw)
    return typeof json.SecretId === 'string' ? json.SecretId : typeof json.Name === 'string' ? json.Name : ''
  } catch {
    return ''
  }
}

function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    throw new AwsError('SerializationException', 'Start of structure or map found where not expected.')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AwsError('SerializationException', 'Start of structure or map found where not expected.')
  }
  return parsed as Record<string, unknown>
}

interface RequestIds {
  requestId: string
  headers: Record<string, string>
}

/** S3 sends `x-amz-request-id` (16 hex) and `x-amz-id-2`; the other services `x-amzn-RequestId` (a UUID). */
function requestIdsFor(protocol: WireProtocol | undefined): RequestIds {
  if (protocol === 'rest-xml') {
    const requestId = randomBytes(8).toString('hex').toUpperCase()
    return {requestId, headers: {'x-amz-request-id': requestId, 'x-amz-id-2': randomBytes(48).toString('base64')}}
  }
  const requestId = randomUUID()
  return {requestId, headers: {'x-amzn-RequestId': requestId}}
}

function send(res: ServerResponse, method: string, response: AwsResponse, ids: RequestIds): void {
  const body = response.body === undefined ? Buffer.alloc(0) : Buffer.from(response.body)
  // A handler that answers with its own request id (STS puts it in the XML too) keeps it.
  const own = Object.keys(response.headers ?? {}).some((name) => name.toLowerCase() === 'x-amzn-requestid')
  const headers: Record<string, string> = {...(own ? {} : ids.headers), ...response.headers}
  if (method !== 'HEAD' || headers['content-length'] === undefined) headers['content-length'] = String(body.length)
  res.writeHead(response.status, headers)
  res.end(method === 'HEAD' ? undefined : body)
}

interface Services {
  handlers: Map<AwsService, AwsServiceHandler>
  ctx: AwsContext
  interceptor?: AwsInterceptor
}

async function handleRequest(services: Services, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET'
  const raw = await readBody(req)
  const url = new URL(req.url ?? '/', 'http://localhost')
  let path: string
  try {
    path = decodeURIComponent(url.pathname)
  } catch {
    path = url.pathname
  }
  const route = routeRequest(req, url, path, raw)
  if ('unknownTarget' in route) {
    const ids = requestIdsFor('json')
    const error = new AwsError('UnknownOperationException', `Unknown operation ${route.unknownTarget}`)
    send(res, method, renderError(error, 'json', {requestId: ids.requestId, method}), ids)
    return
  }
  const protocol = protocolOf(route.service)
  const ids = requestIdsFor(protocol)
  const fail = (error: AwsError): void =>
    send(res, method, renderError(error, protocol, {requestId: ids.requestId, method}), ids)

  const {ctx} = services
  const auth = authenticate(req.headers, url.searchParams, ctx.credentials, ctx.now())
  if (!auth.ok) {
    // Rejected before any account is known: such calls touch no account's state or quota, so controls do not see them.
    const accessKeyId = /Credential=([^/]+)/.exec(headerOf(req, 'authorization') ?? '')?.[1]
    fail(authError(route.service, auth.failure, accessKeyId))
    return
  }
  const account = auth.identity.accountId
  const region = auth.scope.region
  const resource = route.service === 's3' ? path : secretIdOf(protocol, raw)
  const decision = ctx.controls.decide({service: route.service, operation: route.operation, account, region}, resource)
  if (!(await applyTransportDecision(decision, req, res))) return
  if (decision.kind === 'throttle') return fail(throttleError(route.service))
  if (decision.kind === 'fault' && decision.fault === 'error') {
    return fail(new AwsError(decision.code ?? 'InternalFailure', decision.message ?? 'injected fault', decision.status))
  }
  if (decision.kind === 'fault') return fail(serverFaultError(route.service, decision.status))

  try {
    const request: AwsRequest = {
      service: route.service,
      operation: route.operation,
      accountId: account,
      region,
      accessKeyId: auth.identity.accessKeyId,
      method,
      path,
      query: url.searchParams,
      headers: req.headers,
      body: raw,
      json: protocol === 'json' ? parseJsonBody(raw) : {},
      form: route.form,
    }
    const handler = services.handlers.get(route.service)
    if (!handler) throw new AwsError('NotImplemented', `${route.service} is not served here`, 501)
    const next = async (passed: AwsRequest): Promise<AwsResponse> => handler.handle(passed, ctx)
    send(res, method, await (services.interceptor ? services.interceptor(request, next) : next(request)), ids)
  } catch (error) {
    if (error instanceof AwsError) return fail(error)
    // A bug in a handler: answer as the service's internal error so the client sees it, with the cause.
    const status = 500
    const internal = serverFaultError(route.service, status)
    fail(
      new AwsError(
        internal.code,
        `${internal.message} (${error instanceof Error ? error.message : String(error)})`,
        status,
      ),
    )
  }
}

/**
 * Starts the in-process AWS test server: one port, routed by protocol, per-account state, driven by the real AWS
 * SDK v3 clients over HTTP. SigV4 signatures are parsed for the access key and region but not verified.
 */
export async function startAwsServer(options: AwsServerOptions = {}): Promise<AwsServer> {
  const now = options.now ?? Date.now
  const controls = options.controls ?? new Controls(now)
  const baseAccountId = options.baseAccountId ?? '000000000000'
  const baseKeys = options.baseCredentials ?? {accessKeyId: 'test', secretAccessKey: 'test'}
  const credentials = new InMemoryCredentialRegistry()
  const base = rootIdentity(baseKeys.accessKeyId, baseKeys.secretAccessKey, baseAccountId)
  credentials.register(base)
  const ctx: AwsContext = {controls, credentials, now}

  const sts = createStsService(ctx)
  const s3 = createS3Service(ctx, {defaultOwnerAccountId: baseAccountId})
  const secretsManager = createSecretsManagerService(ctx)
  const organizations = createOrganizationsService(ctx)
  const ssoAdmin = createSsoAdminService(ctx)
  // The Identity Store answers from the groups seeded with SSO Admin state: one directory per instance.
  const identityStore = createIdentityStoreService(ssoAdmin.state)
  const handlers = new Map<AwsService, AwsServiceHandler>(
    [sts, s3, secretsManager, organizations, ssoAdmin, identityStore].map(({handler}) => [handler.service, handler]),
  )

  const services: Services = {handlers, ctx}
  const running = await listen((req, res) => {
    handleRequest(services, req, res).catch((error: unknown) => {
      // Only reachable when the socket died mid-answer; nothing useful can be sent.
      if (!res.headersSent) res.writeHead(500).end(String(error))
    })
  }, options.port ?? 0)

  return {
    url: running.url,
    port: running.port,
    controls,
    credentials,
    base,
    close: running.close,
    sts: sts.state,
    s3: s3.state,
    secretsManager: secretsManager.state,
    organizations: organizations.state,
    ssoAdmin: ssoAdmin.state,
    intercept: (interceptor) => {
      services.interceptor = interceptor
    },
  }
}
