import {request} from 'node:http'
import {loginAnswer} from './auth-block.js'
import {badRequest, VaultError, type VaultResponse} from './responses.js'
import type {RouteContext} from './route.js'
import type {AuthMount} from './state.js'
import type {TokenStore} from './tokens.js'

type AwsMount = Extract<AuthMount, {type: 'aws'}>

const SERVER_ID_HEADER = 'X-Vault-AWS-IAM-Server-ID'
// What a SigV4 Authorization header looks like; STS answers IncompleteSignature to anything else.
const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=[^/\s]+\/\d{8}\/([a-z0-9-]+)\/sts\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=[0-9a-f]{64}$/

const decodeBase64 = (value: unknown, name: string): string => {
  if (typeof value !== 'string' || value === '') throw badRequest(`missing ${name}`)
  const text = Buffer.from(value, 'base64').toString('utf8')
  if (Buffer.from(text, 'utf8').toString('base64').replace(/=+$/, '') !== value.replace(/=+$/, ''))
    throw badRequest(`failed to base64 decode ${name}`)
  return text
}

/** `iam_request_headers`: base64 JSON of `{name: value}` or `{name: [values]}` (Go's http.Header). */
function decodeHeaders(value: unknown): Map<string, string> {
  const text = decodeBase64(value, 'iam_request_headers')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw badRequest('missing iam_request_headers')
  }
  const headers = new Map<string, string>()
  for (const [name, raw] of Object.entries((parsed ?? {}) as Record<string, unknown>)) {
    headers.set(name.toLowerCase(), Array.isArray(raw) ? raw.map(String).join(',') : String(raw))
  }
  if (headers.size === 0) throw badRequest('missing iam_request_headers')
  return headers
}

const upstreamError = (message: string) => badRequest(`error making upstream request: ${message}`)

/** The request as Vault sends it on: to its sts_endpoint, with the client's headers (Host included) and body. */
function submitCallerIdentity(endpoint: string, path: string, headers: Map<string, string>, body: string) {
  return new Promise<{status: number; text: string}>((resolve, reject) => {
    const target = new URL(path, endpoint)
    const outgoing = request(
      target,
      {method: 'POST', headers: Object.fromEntries(headers), timeout: 10_000},
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () =>
          resolve({status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8')}),
        )
        response.on('error', reject)
      },
    )
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

/** `arn:aws:sts::<acct>:assumed-role/<role>/<session>` is matched as `arn:aws:iam::<acct>:role/<role>` (parseIamArn). */
function canonicalArn(arn: string): string {
  const parts = arn.split(':')
  if (parts.length !== 6 || parts[0] !== 'arn' || !['iam', 'sts'].includes(parts[2] ?? ''))
    throw badRequest(`error parsing arn ${JSON.stringify(arn)}: unrecognized arn`)
  const resource = (parts[5] ?? '').split('/')
  if (resource.length < 2)
    throw badRequest(
      `error parsing arn ${JSON.stringify(arn)}: unrecognized arn: ${JSON.stringify(parts[5])} contains fewer than 2 slash-separated parts`,
    )
  const [type] = resource
  const name = type === 'assumed-role' ? resource[1] : resource.at(-1)
  const path = type === 'assumed-role' ? '' : resource.slice(1, -1).join('/')
  const kind = type === 'assumed-role' ? 'role' : type
  return `arn:${parts[1]}:iam::${parts[4]}:${kind}/${path ? `${path}/` : ''}${name}`
}

const matches = (bound: string, arn: string): boolean =>
  bound.endsWith('*') ? arn.startsWith(bound.slice(0, -1)) : bound === arn

/**
 * `auth/<aws mount>/login` with the IAM method, as Vault's AWS auth answers it: decode the signed
 * sts:GetCallerIdentity, check the server-id header (present, equal, signed), send it to the configured STS endpoint
 * (the test AWS server), and bind the caller's canonical ARN to the role's bound_iam_principal_arn.
 */
export async function awsLogin(tokens: TokenStore, mount: AwsMount, ctx: RouteContext): Promise<VaultResponse> {
  const config = mount.config
  if (!config) throw badRequest('error getting configuration')
  const method = ctx.body.iam_http_request_method
  if (typeof method !== 'string' || method === '') throw badRequest('missing iam_http_request_method')
  if (method !== 'POST') throw badRequest("invalid iam_http_request_method; currently only 'POST' is supported")
  let url: URL
  try {
    url = new URL(decodeBase64(ctx.body.iam_request_url, 'iam_request_url'))
  } catch (error) {
    if (error instanceof VaultError) throw error
    throw badRequest('error parsing iam_request_url')
  }
  const body = decodeBase64(ctx.body.iam_request_body, 'iam_request_body')
  const headers = decodeHeaders(ctx.body.iam_request_headers)

  const authorization = headers.get('authorization') ?? ''
  if (config.iamServerIdHeaderValue !== '') {
    const provided = headers.get(SERVER_ID_HEADER.toLowerCase()) ?? ''
    const problem =
      provided === ''
        ? `missing header ${JSON.stringify(SERVER_ID_HEADER)}`
        : provided !== config.iamServerIdHeaderValue
          ? `expected ${JSON.stringify(config.iamServerIdHeaderValue)} but got ${JSON.stringify(provided)}`
          : authorization === ''
            ? 'missing Authorization header'
            : !(/SignedHeaders=([^,]+)/.exec(authorization)?.[1] ?? '')
                  .split(';')
                  .includes(SERVER_ID_HEADER.toLowerCase())
              ? `vault header wasn't signed`
              : undefined
    if (problem) throw badRequest(`error validating ${SERVER_ID_HEADER} header: ${problem}`)
  }
  // What STS itself would refuse: an unsigned or malformed request, a scope for another region, a foreign Host.
  const signature = SIGV4.exec(authorization)
  if (!signature) throw upstreamError('received error code 403 from STS: IncompleteSignature')
  const expectedHost = config.stsRegion === 'us-east-1' ? 'sts.amazonaws.com' : `sts.${config.stsRegion}.amazonaws.com`
  const signedHeaders = (signature[2] ?? '').split(';')
  if (signature[1] !== config.stsRegion || headers.get('host') !== expectedHost || !signedHeaders.includes('host'))
    throw upstreamError('received error code 403 from STS: SignatureDoesNotMatch')
  if (url.pathname !== '/' || body !== 'Action=GetCallerIdentity&Version=2011-06-15')
    throw badRequest('error making upstream request: unexpected request: only sts:GetCallerIdentity is accepted')

  let answer: {status: number; text: string}
  try {
    answer = await submitCallerIdentity(config.stsEndpoint, url.pathname + url.search, headers, body)
  } catch (error) {
    throw upstreamError((error as Error).message)
  }
  if (answer.status !== 200) {
    const code = /<Code>([^<]+)<\/Code>/.exec(answer.text)?.[1] ?? 'unknown'
    throw upstreamError(`received error code ${answer.status} from STS: ${code}`)
  }
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(answer.text)?.[1]
  if (!arn) throw upstreamError('error parsing STS response')

  const roleName = typeof ctx.body.role === 'string' && ctx.body.role !== '' ? ctx.body.role : undefined
  const canonical = canonicalArn(arn)
  const role = mount.roles.get(roleName ?? canonical.split('/').at(-1) ?? '')
  if (!role) throw badRequest(`entry for role ${roleName ?? ''} not found`)
  if (!role.boundIamPrincipalArns.some((bound) => matches(bound, canonical)))
    throw badRequest(`IAM Principal ${JSON.stringify(arn)} does not belong to the role ${JSON.stringify(role.name)}`)

  return loginAnswer(
    tokens,
    {namespace: ctx.namespace.path, mountPath: mount.path, mountType: 'aws', role},
    {
      displayName: `${mount.path.replace(/\/$/, '')}-${canonical.split('/').at(-1) ?? ''}`,
      meta: {client_arn: arn, canonical_arn: canonical, auth_type: 'iam', account_id: arn.split(':')[4] ?? ''},
    },
  )
}
