import {createHash} from 'node:crypto'
import {crc32} from 'node:zlib'
import {S3Error} from './error-render.js'
import {xmlEscape, xmlResponse} from './protocol.js'
import {accessibleBucket, header, noSuchKey} from './s3-access.js'
import {decodeS3Body, type DecodedBody} from './s3-request.js'
import {
  md5Etag,
  objectHeaders,
  type ObjectEncryption,
  type PutRecord,
  type S3State,
  type StoredBucket,
  type StoredObject,
} from './s3-state.js'
import {AwsError, type AwsRequest, type AwsResponse} from './types.js'

const SSE_ALGORITHMS = ['AES256', 'aws:kms', 'aws:kms:dsse']
const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256']
/** Representation headers S3 stores with an object and returns on reads. */
const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-language', 'expires']

const preconditionFailed = (condition: string): S3Error =>
  new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, {
    Condition: condition,
  })

/** RFC 7232 strong comparison against a list of entity tags (`*` matches any existing object). */
const etagMatches = (list: string, etag: string): boolean => {
  const bare = (tag: string): string =>
    tag
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1')
  return list.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag))
}

const crc32Base64 = (body: Buffer): string => {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(crc32(body))
  return bytes.toString('base64')
}

function requestedEncryption(req: AwsRequest, bucket: StoredBucket): ObjectEncryption {
  const algorithm = header(req, 'x-amz-server-side-encryption')
  const kmsKeyId = header(req, 'x-amz-server-side-encryption-aws-kms-key-id')
  if (algorithm !== undefined && !SSE_ALGORITHMS.includes(algorithm)) {
    throw new S3Error('InvalidArgument', 'The encryption method specified is not supported', 400, {
      ArgumentName: 'x-amz-server-side-encryption',
      ArgumentValue: algorithm,
    })
  }
  if (algorithm === undefined || algorithm === 'AES256') {
    if (kmsKeyId !== undefined) {
      throw new S3Error(
        'InvalidArgument',
        'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
        400,
        {ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: algorithm ?? 'null'},
      )
    }
    // Since January 2023 S3 encrypts every new object with SSE-S3 when the request asks for nothing else.
    return {serverSideEncryption: 'AES256'}
  }
  return {
    serverSideEncryption: algorithm,
    kmsKeyId: kmsKeyId ?? `arn:aws:kms:${bucket.region}:${bucket.ownerAccountId}:alias/aws/s3`,
    ...(header(req, 'x-amz-server-side-encryption-bucket-key-enabled') === 'true' ? {bucketKeyEnabled: true} : {}),
  }
}

/** Verifies Content-MD5 and the checksums S3 can compute here; returns every `x-amz-checksum-*` sent. */
function verifiedChecksums(req: AwsRequest, {body, trailers}: DecodedBody): Record<string, string> {
  const md5 = header(req, 'content-md5')
  if (md5 !== undefined) {
    if (!/^[A-Za-z0-9+/]{22}==$/.test(md5)) {
      throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.', 400, {'Content-MD5': md5})
    }
    if (createHash('md5').update(body).digest('base64') !== md5) {
      throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400)
    }
  }
  const checksums: Record<string, string> = {}
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const name = `x-amz-checksum-${algorithm}`
    const value = header(req, name) ?? trailers[name]
    if (value === undefined) continue
    const computed =
      algorithm === 'crc32'
        ? crc32Base64(body)
        : algorithm === 'sha1' || algorithm === 'sha256'
          ? createHash(algorithm).update(body).digest('base64')
          : value // CRC32C and CRC64NVME need code Node does not ship: stored as sent, not verified.
    if (computed !== value) {
      throw new S3Error(
        'BadDigest',
        `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
        400,
      )
    }
    checksums[name] = value
  }
  return checksums
}

function writePrecondition(req: AwsRequest, key: string, existing: StoredObject | undefined): void {
  const ifNoneMatch = header(req, 'if-none-match')
  const ifMatch = header(req, 'if-match')
  if (ifNoneMatch !== undefined) {
    // On writes S3 only implements `If-None-Match: *` (create only if absent).
    if (ifNoneMatch.trim() !== '*') {
      throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', 501, {
        Header: 'If-None-Match',
      })
    }
    if (existing) throw preconditionFailed('If-None-Match')
  }
  if (ifMatch !== undefined) {
    // S3 User Guide, conditional write behavior: with If-Match and no current object version, 404 Not Found.
    if (!existing) throw noSuchKey(key)
    if (!etagMatches(ifMatch, existing.etag)) throw preconditionFailed('If-Match')
  }
}

function encryptionHeaders(sse: ObjectEncryption): Record<string, string> {
  const headers: Record<string, string> = {'x-amz-server-side-encryption': sse.serverSideEncryption}
  if (sse.kmsKeyId !== undefined) headers['x-amz-server-side-encryption-aws-kms-key-id'] = sse.kmsKeyId
  if (sse.bucketKeyEnabled) headers['x-amz-server-side-encryption-bucket-key-enabled'] = 'true'
  return headers
}

function storeUpload(
  state: S3State,
  req: AwsRequest,
  bucketName: string | undefined,
  key: string,
  now: number,
): AwsResponse {
  const bucket = accessibleBucket(state, req, bucketName)
  if (Buffer.byteLength(key) > 1024) throw new S3Error('KeyTooLongError', 'Your key is too long', 400)
  const decoded = decodeS3Body(req.body, req.headers)
  const sse = requestedEncryption(req, bucket)
  const checksums = verifiedChecksums(req, decoded)
  writePrecondition(req, key, bucket.objects.get(key))

  const metadata: Record<string, string> = {}
  const stored: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    const text = Array.isArray(value) ? value.join(',') : value
    if (text === undefined) continue
    if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = text
    if (STORED_HEADERS.includes(name)) stored[name] = text
  }
  const encoding = (header(req, 'content-encoding') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '' && e !== 'aws-chunked')
  if (encoding.length > 0) stored['content-encoding'] = encoding.join(',')

  const object: StoredObject = {
    key,
    body: decoded.body,
    etag: md5Etag(decoded.body),
    lastModified: now,
    contentType: header(req, 'content-type') ?? 'binary/octet-stream',
    metadata,
    sse,
    checksums,
    headers: stored,
  }
  state.store(bucket, object)
  return {status: 200, headers: {etag: object.etag, ...encryptionHeaders(sse), ...checksums}}
}

/** PutObject: stores the body with its metadata and encryption, honouring If-None-Match/If-Match. */
export function putObject(
  state: S3State,
  req: AwsRequest,
  bucket: string | undefined,
  key: string,
  now: number,
): AwsResponse {
  const record: PutRecord = {
    bucket: bucket ?? '',
    key,
    accountId: req.accountId,
    serverSideEncryption: header(req, 'x-amz-server-side-encryption'),
    kmsKeyId: header(req, 'x-amz-server-side-encryption-aws-kms-key-id'),
    ifMatch: header(req, 'if-match'),
    ifNoneMatch: header(req, 'if-none-match'),
    status: 500,
    at: now,
  }
  try {
    const response = storeUpload(state, req, bucket, key, now)
    record.status = response.status
    return response
  } catch (error) {
    if (error instanceof AwsError) record.status = error.status
    throw error
  } finally {
    state.recordPut(record)
  }
}

/** RFC 7232 as S3 documents it: If-Match beats If-Unmodified-Since, If-None-Match beats If-Modified-Since. */
function readPrecondition(req: AwsRequest, object: StoredObject): S3Error | undefined {
  const date = (name: string): number | undefined => {
    const value = header(req, name)
    const ms = value === undefined ? Number.NaN : Date.parse(value)
    return Number.isNaN(ms) ? undefined : ms
  }
  const modified = Math.floor(object.lastModified / 1000) * 1000
  const ifMatch = header(req, 'if-match')
  const ifNoneMatch = header(req, 'if-none-match')
  const unmodifiedSince = date('if-unmodified-since')
  const modifiedSince = date('if-modified-since')
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, object.etag)) return preconditionFailed('If-Match')
  } else if (unmodifiedSince !== undefined && modified > unmodifiedSince) {
    return preconditionFailed('If-Unmodified-Since')
  }
  const notModified =
    ifNoneMatch !== undefined
      ? etagMatches(ifNoneMatch, object.etag)
      : modifiedSince !== undefined && modified <= modifiedSince
  if (notModified) {
    return new S3Error(
      'NotModified',
      'Not Modified',
      304,
      {},
      {etag: object.etag, 'last-modified': new Date(modified).toUTCString()},
    )
  }
  return undefined
}

/** A single `bytes=a-b` range; anything else is ignored and the whole object served, as S3 does. */
function byteRange(req: AwsRequest, size: number): {start: number; end: number} | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header(req, 'range') ?? '')
  if (!match || (match[1] === '' && match[2] === '')) return undefined
  const [first, last] = [match[1] ?? '', match[2] ?? '']
  const start = first === '' ? Math.max(0, size - Number(last)) : Number(first)
  const end = first === '' || last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (start >= size || start > end) {
    throw new S3Error('InvalidRange', 'The requested range is not satisfiable', 416, {
      RangeRequested: header(req, 'range') ?? '',
      ActualObjectSize: String(size),
    })
  }
  return {start, end}
}

/** GetObject and HeadObject (HEAD answers the same headers with no body; errors have no body either). */
export function getObject(state: S3State, req: AwsRequest, bucketName: string | undefined, key: string): AwsResponse {
  const bucket = accessibleBucket(state, req, bucketName)
  const object = bucket.objects.get(key)
  if (!object) throw noSuchKey(key)
  const failed = readPrecondition(req, object)
  if (failed) throw failed
  const headers = objectHeaders(object)
  for (const name of [
    'content-type',
    'content-language',
    'expires',
    'cache-control',
    'content-disposition',
    'content-encoding',
  ]) {
    const override = req.query.get(`response-${name}`)
    if (override !== null) headers[name] = override
  }
  const range = byteRange(req, object.body.length)
  if (range) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${object.body.length}`
    headers['content-length'] = String(range.end - range.start + 1)
  } else if (header(req, 'x-amz-checksum-mode') === 'ENABLED') {
    Object.assign(headers, object.checksums)
  }
  const body = range ? object.body.subarray(range.start, range.end + 1) : object.body
  return {status: range ? 206 : 200, headers, body: req.method === 'HEAD' ? undefined : body}
}

/** DeleteObject: 204 whether or not the key existed; If-Match only fails against an existing, different object. */
export function deleteObject(
  state: S3State,
  req: AwsRequest,
  bucketName: string | undefined,
  key: string,
): AwsResponse {
  const bucket = accessibleBucket(state, req, bucketName)
  const ifMatch = header(req, 'if-match')
  const existing = bucket.objects.get(key)
  if (ifMatch !== undefined && existing && !etagMatches(ifMatch, existing.etag)) throw preconditionFailed('If-Match')
  state.deleteObject(bucket.name, key)
  return {status: 204}
}

const xmlUnescape = (text: string): string =>
  text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16))
    if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)))
    return {amp: '&', lt: '<', gt: '>', quot: '"', apos: "'"}[entity] ?? ''
  })

const malformedXml = (): S3Error =>
  new S3Error(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
    400,
  )

/** DeleteObjects (`POST /bucket?delete`): up to 1000 keys; quiet mode reports only errors. */
export function deleteObjects(state: S3State, req: AwsRequest, bucketName: string | undefined): AwsResponse {
  const bucket = accessibleBucket(state, req, bucketName)
  const hasChecksum = Object.keys(req.headers).some(
    (name) => name === 'content-md5' || name.startsWith('x-amz-checksum-'),
  )
  if (!hasChecksum) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5', 400)
  }
  const xml = req.body.toString('utf8')
  if (!/<Delete[\s>]/.test(xml)) throw malformedXml()
  const keys = [...xml.matchAll(/<Object>([\s\S]*?)<\/Object>/g)].map((match) => {
    const key = /<Key>([\s\S]*?)<\/Key>/.exec(match[1] ?? '')?.[1]
    if (key === undefined) throw malformedXml()
    return xmlUnescape(key)
  })
  if (keys.length === 0 || keys.length > 1000) throw malformedXml()
  const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(xml)
  for (const key of keys) state.deleteObject(bucket.name, key)
  const deleted = quiet ? '' : keys.map((key) => `<Deleted><Key>${xmlEscape(key)}</Key></Deleted>`).join('')
  return xmlResponse(`<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${deleted}</DeleteResult>`, 200, {
    'content-type': 'application/xml',
  })
}
