import {S3Error} from './error-render.js'
import type {S3State, StoredBucket} from './s3-state.js'
import type {AwsRequest} from './types.js'

/** A request header as one string (node folds repeated headers into arrays for a few names only). */
export const header = (req: AwsRequest, name: string): string | undefined => {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

export const noSuchBucket = (bucket: string): S3Error =>
  new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404, {BucketName: bucket})

export const noSuchKey = (key: string): S3Error =>
  new S3Error('NoSuchKey', 'The specified key does not exist.', 404, {Key: key})

/**
 * The bucket a request may use: it must exist, be addressed in its own region (S3 refuses SigV4 requests scoped to
 * another region) and belong to the caller's account, since the server models no bucket policies.
 */
export function accessibleBucket(state: S3State, req: AwsRequest, name: string | undefined): StoredBucket {
  const bucket = name === undefined ? undefined : state.findBucket(name)
  if (!bucket || name === undefined) throw noSuchBucket(name ?? '')
  if (bucket.region !== req.region) {
    throw new S3Error(
      'AuthorizationHeaderMalformed',
      `The authorization header is malformed; the region '${req.region}' is wrong; expecting '${bucket.region}'`,
      400,
      {Region: bucket.region},
      {'x-amz-bucket-region': bucket.region},
    )
  }
  const expectedOwner = header(req, 'x-amz-expected-bucket-owner')
  if (
    bucket.ownerAccountId !== req.accountId ||
    (expectedOwner !== undefined && expectedOwner !== bucket.ownerAccountId)
  ) {
    throw new S3Error('AccessDenied', 'Access Denied', 403)
  }
  return bucket
}
