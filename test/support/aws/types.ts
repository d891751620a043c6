import type {IncomingHttpHeaders} from 'node:http'
import type {Controls} from '../controls.js'

export type AwsService = 'secretsmanager' | 'sts' | 'organizations' | 'sso-admin' | 'identitystore' | 's3'

/** A request after routing: which service and operation, and whose state it touches. */
export interface AwsRequest {
  service: AwsService
  /** Documented operation name: `CreateSecret`, `AssumeRole`, `ListRoots`, `PutObject`... */
  operation: string
  /** The account of the credentials that signed the request (from the access key id). */
  accountId: string
  /** Region from the SigV4 credential scope. */
  region: string
  accessKeyId: string
  method: string
  /** URL path, decoded once (S3 keys keep their `/`). */
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  body: Buffer
  /** Parsed JSON body for JSON 1.1 services (`{}` when empty), form fields for STS. */
  json: Record<string, unknown>
  form: URLSearchParams
}

export interface AwsResponse {
  status: number
  headers?: Record<string, string>
  body?: string | Buffer
}

/** One service of the AWS test server. Handlers throw `AwsError` for documented error responses. */
export interface AwsServiceHandler {
  service: AwsService
  handle(req: AwsRequest, ctx: AwsContext): AwsResponse | Promise<AwsResponse>
}

/** What every handler may use: the credential registry (shared with STS) and the controls. */
export interface AwsContext {
  controls: Controls
  credentials: CredentialRegistry
  /** Injected clock (ms since epoch) so tests can move time. */
  now(): number
}

export interface IssuedCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  accountId: string
  /** ARN of the identity, e.g. `arn:aws:sts::123456789012:assumed-role/SecretSync/session`. */
  arn: string
  userId: string
  expiresAt?: number
}

export interface CredentialRegistry {
  lookup(accessKeyId: string): IssuedCredentials | undefined
  issue(creds: Omit<IssuedCredentials, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>): IssuedCredentials
  register(creds: IssuedCredentials): void
}

/**
 * A documented AWS error. The router renders it in the service's protocol: JSON 1.1
 * (`{"__type": code, "message"}` + `x-amzn-ErrorType`), STS query XML (`<ErrorResponse>`), S3 REST XML (`<Error>`).
 */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Sender (client) or Receiver (server) fault, for the XML protocols. */
    readonly fault: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message)
  }
}
