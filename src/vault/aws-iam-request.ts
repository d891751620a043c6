import {createHash, createHmac, type Hash, type Hmac} from 'node:crypto'
import {SignatureV4} from '@smithy/signature-v4'
import type {AwsCredentialIdentity, AwsCredentialIdentityProvider, Checksum, SourceData} from '@smithy/types'

/** The body of Vault's AWS IAM login (`auth/<mount>/login`): a signed sts:GetCallerIdentity Vault sends on to STS. */
export interface AwsIamLoginBody {
  iam_http_request_method: 'POST'
  iam_request_url: string
  iam_request_body: string
  iam_request_headers: string
}

export interface AwsIamRequestOptions {
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider
  /** Unset: the global endpoint sts.amazonaws.com, signed for us-east-1 (Vault's default sts_endpoint/sts_region). */
  region?: string
  /** Sent and signed as X-Vault-AWS-IAM-Server-ID when the Vault mount sets iam_server_id_header_value. */
  headerValue?: string
  now?: () => number
}

const BODY = 'Action=GetCallerIdentity&Version=2011-06-15'
const SERVER_ID_HEADER = 'X-Vault-AWS-IAM-Server-ID'

/** node:crypto as the signer's hash (SHA-256, HMAC-SHA-256 when given a key). */
class Sha256 implements Checksum {
  private hash: Hash | Hmac
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh()
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret))
  }
  update(data: Uint8Array): void {
    this.hash.update(data)
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()))
  }
  reset(): void {
    this.hash = this.fresh()
  }
}

// Go's canonical MIME header names (`X-Amz-Date`), as the vault CLI sends them: Vault looks up `Authorization` exactly.
const canonicalHeaders = (headers: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase()),
      value,
    ]),
  )

const toBuffer = (data: SourceData): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data)

/**
 * A SigV4-signed sts:GetCallerIdentity POST, encoded as Vault's AWS IAM login expects (URL, body and headers
 * base64, headers as JSON). The endpoint is the one Vault sends it to: STS checks the signature against its host.
 */
export async function signedCallerIdentityRequest(options: AwsIamRequestOptions): Promise<AwsIamLoginBody> {
  const region = options.region ?? 'us-east-1'
  const host = options.region ? `sts.${options.region}.amazonaws.com` : 'sts.amazonaws.com'
  const headers: Record<string, string> = {
    host,
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    ...(options.headerValue ? {[SERVER_ID_HEADER]: options.headerValue} : {}),
  }
  const signer = new SignatureV4({credentials: options.credentials, region, service: 'sts', sha256: Sha256})
  const signed = await signer.sign(
    {method: 'POST', protocol: 'https:', hostname: host, path: '/', headers, body: BODY, query: {}},
    options.now ? {signingDate: new Date(options.now())} : {},
  )
  const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64')
  return {
    iam_http_request_method: 'POST',
    iam_request_url: base64(`https://${host}/`),
    iam_request_body: base64(BODY),
    iam_request_headers: base64(JSON.stringify(canonicalHeaders(signed.headers))),
  }
}
