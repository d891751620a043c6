import {xmlEscape} from './protocol.js'
import type {AuthFailure} from './request-auth.js'
import {AwsError, type AwsResponse, type AwsService} from './types.js'

export type WireProtocol = 'json' | 'query' | 'rest-xml'

export const protocolOf = (service: AwsService): WireProtocol =>
  service === 'sts' ? 'query' : service === 's3' ? 'rest-xml' : 'json'

/**
 * An S3 error with the extra elements S3 puts in its `<Error>` body (`Key`, `BucketName`, `Condition`...) and
 * headers it sends with some errors (`x-amz-bucket-region`).
 */
export class S3Error extends AwsError {
  constructor(
    code: string,
    message: string,
    status: number,
    readonly details: Record<string, string> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message, status)
  }
}

/** A JSON 1.1 error with the members a service documents beside `message` (Identity Store: `ResourceType`, `ResourceId`, `RequestId`). */
export class JsonMembersError extends AwsError {
  constructor(
    code: string,
    message: string,
    status: number,
    readonly members: Record<string, string> = {},
  ) {
    super(code, message, status)
  }
}

export interface RenderContext {
  requestId: string
  /** HEAD answers and 304s carry no body, whatever the error. */
  method: string
}

/** Renders a documented error the way the service's protocol puts it on the wire. */
export function renderError(error: AwsError, protocol: WireProtocol, {requestId, method}: RenderContext): AwsResponse {
  if (protocol === 'json') {
    return {
      status: error.status,
      headers: {'content-type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': error.code},
      body: JSON.stringify({
        __type: error.code,
        message: error.message,
        ...(error instanceof JsonMembersError
          ? {...error.members, ...('RequestId' in error.members ? {RequestId: requestId} : {})}
          : {}),
      }),
    }
  }
  if (protocol === 'query') {
    const xml =
      `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${error.fault}</Type>` +
      `<Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message></Error>` +
      `<RequestId>${requestId}</RequestId></ErrorResponse>`
    return {status: error.status, headers: {'content-type': 'text/xml'}, body: xml}
  }
  const s3 = error instanceof S3Error ? error : undefined
  const headers = {...s3?.headers}
  if (method === 'HEAD' || error.status === 304) return {status: error.status, headers}
  const details = Object.entries(s3?.details ?? {})
    .map(([name, value]) => `<${name}>${xmlEscape(value)}</${name}>`)
    .join('')
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(error.code)}</Code>` +
    `<Message>${xmlEscape(error.message)}</Message>${details}<RequestId>${requestId}</RequestId></Error>`
  return {status: error.status, headers: {...headers, 'content-type': 'application/xml'}, body: xml}
}

/** The error each service documents for a request whose credentials it cannot accept. */
export function authError(service: AwsService, failure: AuthFailure, accessKeyId?: string): AwsError {
  const protocol = protocolOf(service)
  if (protocol === 'rest-xml') {
    if (failure === 'missing') return new S3Error('AccessDenied', 'Access Denied', 403)
    if (failure === 'expired') return new S3Error('ExpiredToken', 'The provided token has expired.', 400)
    if (failure === 'bad-token') {
      return new S3Error('InvalidToken', 'The provided token is malformed or otherwise invalid.', 400)
    }
    return new S3Error(
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
      403,
      accessKeyId === undefined ? {} : {AWSAccessKeyId: accessKeyId},
    )
  }
  if (protocol === 'query') {
    if (failure === 'missing')
      return new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403)
    if (failure === 'expired')
      return new AwsError('ExpiredToken', 'The security token included in the request is expired', 400)
    return new AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403)
  }
  if (failure === 'missing')
    return new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 400)
  if (failure === 'expired') {
    return new AwsError('ExpiredTokenException', 'The security token included in the request is expired', 400)
  }
  return new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 400)
}

/** The throttling error each service documents (the SDKs retry all of these with backoff). */
export function throttleError(service: AwsService): AwsError {
  switch (service) {
    case 's3':
      return new S3Error('SlowDown', 'Please reduce your request rate.', 503)
    case 'sts':
      return new AwsError('Throttling', 'Rate exceeded', 400)
    case 'organizations':
      return new AwsError(
        'TooManyRequestsException',
        'You have sent too many requests in too short a period of time.',
        400,
      )
    default:
      return new AwsError('ThrottlingException', 'Rate exceeded', 400)
  }
}

/**
 * An injected server fault. 503 is the common `ServiceUnavailable`; other statuses use the internal error each
 * service documents (S3 `InternalError`, Secrets Manager `InternalServiceError`, Organizations `ServiceException`,
 * SSO Admin and Identity Store `InternalServerException`, STS the common `InternalFailure`).
 */
export function serverFaultError(service: AwsService, status: number): AwsError {
  if (status === 503) {
    return service === 's3'
      ? new S3Error('ServiceUnavailable', 'Service is unable to handle request.', 503)
      : new AwsError('ServiceUnavailable', 'The request has failed due to a temporary failure of the server.', 503)
  }
  const code = {
    s3: 'InternalError',
    sts: 'InternalFailure',
    secretsmanager: 'InternalServiceError',
    organizations: 'ServiceException',
    'sso-admin': 'InternalServerException',
    identitystore: 'InternalServerException',
  }[service]
  const message =
    service === 's3'
      ? 'We encountered an internal error. Please try again.'
      : 'The request processing has failed because of an unknown error, exception or failure.'
  return service === 's3' ? new S3Error(code, message, status) : new AwsError(code, message, status)
}
