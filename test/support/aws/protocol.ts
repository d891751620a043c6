import {AwsError, type AwsRequest, type AwsResponse, type AwsServiceHandler} from './types.js'

/** A JSON 1.1 success response (Secrets Manager, Organizations, SSO Admin). */
export const jsonResponse = (body: unknown, status = 200): AwsResponse => ({
  status,
  headers: {'content-type': 'application/x-amz-json-1.1'},
  body: JSON.stringify(body),
})

/** One JSON 1.1 operation: the parsed request in, the response body out (errors thrown as AwsError). */
export type JsonOperations = Record<string, (req: AwsRequest) => unknown>

/** A JSON 1.1 service of named operations; an operation this server does not implement answers as AWS does. */
export const jsonServiceHandler = (
  service: AwsServiceHandler['service'],
  operations: JsonOperations,
): AwsServiceHandler => ({
  service,
  handle(req: AwsRequest): AwsResponse {
    const operation = operations[req.operation]
    if (!operation) {
      throw new AwsError(
        'UnknownOperationException',
        `Operation ${req.operation} is not supported by this test server`,
        400,
      )
    }
    return jsonResponse(operation(req))
  },
})

/** XML-escapes text content and attribute values. */
export const xmlEscape = (value: string): string =>
  value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')

/** An XML success response (STS query protocol, S3 REST). */
export const xmlResponse = (xml: string, status = 200, headers: Record<string, string> = {}): AwsResponse => ({
  status,
  headers: {'content-type': 'text/xml', ...headers},
  body: `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`,
})

/** Epoch seconds as AWS JSON protocols send timestamps. */
export const epochSeconds = (ms: number): number => Math.floor(ms) / 1000

/** Opaque pagination token for an offset; rejects tokens it did not issue. */
export const encodeToken = (offset: number, scope: string): string =>
  Buffer.from(JSON.stringify({o: offset, s: scope})).toString('base64')

export const decodeToken = (token: string | undefined, scope: string): number | undefined => {
  if (token === undefined || token === '') return 0
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as {o?: unknown; s?: unknown}
    if (typeof parsed.o === 'number' && parsed.s === scope) return parsed.o
  } catch {
    // fall through: an unparseable token is invalid
  }
  return undefined
}
