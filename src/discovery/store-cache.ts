import {GetObjectCommand, PutObjectCommand, type PutObjectCommandInput, type S3Client} from '@aws-sdk/client-s3'

export interface DiscoveryObjectStoreOptions {
  bucket: string
  /** The merge store prefix, used as given (`merged/`). */
  prefix: string
  /** SSE-KMS key, as the merge store uses; without it SSE-S3 (AES256). Never unencrypted. */
  kmsKeyId?: string
}

/**
 * The discovery cache's objects in the merge store bucket: `{prefix}discovery/{block}.json`, written with
 * server-side encryption like every other merge store object. Failures are thrown as the SDK reports them;
 * the cache decides what a failure means.
 */
export class DiscoveryObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly options: DiscoveryObjectStoreOptions,
  ) {}

  key(block: string): string {
    return `${this.options.prefix}discovery/${block}.json`
  }

  location(block: string): string {
    return `s3://${this.options.bucket}/${this.key(block)}`
  }

  /** The object's body, or undefined when there is none. */
  async read(block: string): Promise<string | undefined> {
    try {
      const response = await this.s3.send(new GetObjectCommand({Bucket: this.options.bucket, Key: this.key(block)}))
      return (await response.Body?.transformToString('utf8')) ?? ''
    } catch (error) {
      // Only a missing key is a miss: a missing bucket (NoSuchBucket, also a 404) must surface.
      if ((error as {name?: string}).name === 'NoSuchKey') return undefined
      throw error
    }
  }

  async write(block: string, body: string): Promise<void> {
    const encryption: Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'> =
      this.options.kmsKeyId === undefined
        ? {ServerSideEncryption: 'AES256'}
        : {ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.options.kmsKeyId}
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.key(block),
        Body: body,
        ContentType: 'application/json',
        ...encryption,
      }),
    )
  }
}
