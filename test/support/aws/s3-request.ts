import type {IncomingHttpHeaders} from 'node:http'
import {S3Error} from './error-render.js'

export interface S3Route {
  bucket?: string
  key?: string
  /** Documented operation name, e.g. `PutObject`, `ListObjectsV2`. */
  operation: string
}

/** Query parameters that only carry request options; everything else names a subresource. */
const OPTION_PARAMS = new Set([
  'x-id',
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'marker',
  'versionId',
])

const subresource = (query: URLSearchParams): string | undefined =>
  [...query.keys()].find(
    (name) => !OPTION_PARAMS.has(name) && !name.startsWith('X-Amz-') && !name.startsWith('response-'),
  )

/**
 * Splits a request into bucket and key, path-style (`/<bucket>/<key>`) or virtual-host style (`<bucket>.localhost`),
 * and names the operation from method and subresource the way the S3 API reference maps them.
 */
export function routeS3(method: string, path: string, query: URLSearchParams, host: string | undefined): S3Route {
  const hostname = (host ?? '').replace(/:\d+$/, '')
  const virtualBucket = /^(.+?)(?:\.s3)?\.localhost$/.exec(hostname)?.[1]
  let bucket: string | undefined
  let key: string | undefined
  if (virtualBucket !== undefined) {
    bucket = virtualBucket
    key = path.length > 1 ? path.slice(1) : undefined
  } else {
    const rest = path.slice(1)
    const slash = rest.indexOf('/')
    bucket = (slash === -1 ? rest : rest.slice(0, slash)) || undefined
    key = slash === -1 || slash === rest.length - 1 ? undefined : rest.slice(slash + 1)
  }
  return {bucket, key, operation: operationOf(method, bucket, key, query)}
}

function operationOf(
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  query: URLSearchParams,
): string {
  const sub = subresource(query)
  if (bucket === undefined) return method === 'GET' ? 'ListBuckets' : `Unsupported${method}Service`
  if (key === undefined) {
    if (sub === 'delete' && method === 'POST') return 'DeleteObjects'
    if (sub === 'location' && method === 'GET') return 'GetBucketLocation'
    if (sub !== undefined) return `Unsupported${method}Bucket:${sub}`
    if (method === 'GET') return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects'
    return {PUT: 'CreateBucket', HEAD: 'HeadBucket', DELETE: 'DeleteBucket'}[method] ?? `Unsupported${method}Bucket`
  }
  if (sub !== undefined) return `Unsupported${method}Object:${sub}`
  return (
    {PUT: 'PutObject', GET: 'GetObject', HEAD: 'HeadObject', DELETE: 'DeleteObject'}[method] ??
    `Unsupported${method}Object`
  )
}

export interface DecodedBody {
  body: Buffer
  /** Trailing headers of an `aws-chunked` body (`x-amz-checksum-crc32`...). */
  trailers: Record<string, string>
}

const firstHeader = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * Undoes `aws-chunked` content encoding (`<hex size>[;chunk-signature=..]\r\n<data>\r\n ... 0\r\n<trailers>\r\n`),
 * which the SDK uses for streamed uploads with a trailing checksum. Other bodies pass through unchanged.
 */
export function decodeS3Body(raw: Buffer, headers: IncomingHttpHeaders): DecodedBody {
  const encoding = firstHeader(headers, 'content-encoding') ?? ''
  const sha = firstHeader(headers, 'x-amz-content-sha256') ?? ''
  if (!encoding.split(',').some((e) => e.trim() === 'aws-chunked') && !sha.startsWith('STREAMING-')) {
    return {body: raw, trailers: {}}
  }
  const chunks: Buffer[] = []
  const trailers: Record<string, string> = {}
  let pos = 0
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', pos)
    if (lineEnd === -1) throw new S3Error('IncompleteBody', 'The request body terminated unexpectedly', 400)
    const size = Number.parseInt(raw.subarray(pos, lineEnd).toString('latin1').split(';')[0] ?? '', 16)
    if (Number.isNaN(size)) throw new S3Error('InvalidRequest', 'Invalid chunked encoding', 400)
    pos = lineEnd + 2
    if (size === 0) break
    chunks.push(raw.subarray(pos, pos + size))
    pos += size + 2
  }
  for (const line of raw.subarray(pos).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const body = Buffer.concat(chunks)
  const declared = firstHeader(headers, 'x-amz-decoded-content-length')
  if (declared !== undefined && Number(declared) !== body.length) {
    throw new S3Error(
      'IncompleteBody',
      'You did not provide the number of bytes specified by the Content-Length HTTP header',
      400,
    )
  }
  return {body, trailers}
}
