import {SecretSyncError} from '../errors.js'

/**
 * Which failed calls say something about a service's health (they count toward opening its breaker),
 * and the status label a failed call gets in the metrics. Shared by AWS and Vault calls.
 */

// Throttling means a quota shared with other callers is spent, not that the service is unwell: it never counts
// toward a breaker (the adaptive rate slows down instead, src/resilience/adaptive-rate.ts). LimitExceededException
// is not throttling: Secrets Manager uses it for account quotas (too many secrets), which waiting does not fix.
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'BandwidthLimitExceeded',
  'PriorRequestNotComplete',
])
const TIMEOUTS = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException'])
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNABORTED', 'UND_ERR_CONNECT_TIMEOUT'])

interface ErrorShape {
  name?: unknown
  code?: unknown
  cause?: unknown
  statusCode?: unknown
  $fault?: unknown
  $metadata?: {httpStatusCode?: unknown}
  response?: {statusCode?: unknown}
}

/** The HTTP status of an AWS SDK v3 error (`$metadata`) or a node-vault error (`response.statusCode`). */
function httpStatusOf(error: ErrorShape): number | undefined {
  for (const status of [error.$metadata?.httpStatusCode, error.response?.statusCode, error.statusCode]) {
    if (typeof status === 'number') return status
  }
  return undefined
}

// errno-style codes (ECONNRESET, ENOTFOUND, EAI_AGAIN...), undici's and Node's socket and stream errors are the network
// failing; Node's other ERR_* codes (ERR_INVALID_URL...) are mistakes in the request, not the service's.
const NETWORK_CODE =
  /^(E[A-Z]+|EAI_[A-Z]+|UND_ERR_[A-Z_]+|ERR_SOCKET_[A-Z_]+|ERR_HTTP2_[A-Z_]+|ERR_STREAM_PREMATURE_CLOSE)$/
export const isNetworkCode = (code: unknown): boolean => typeof code === 'string' && NETWORK_CODE.test(code)
const isLocalCode = (code: unknown): boolean =>
  typeof code === 'string' && code.startsWith('ERR_') && !NETWORK_CODE.test(code)

/**
 * Whether a failed call was throttled: an AWS throttling error (ThrottlingException, TooManyRequestsException,
 * RequestLimitExceeded, S3 SlowDown...) or an HTTP 429 (Vault's rate-limit quota). Our own errors never are.
 */
export function isThrottlingError(error: unknown): boolean {
  if (error === null || typeof error !== 'object' || error instanceof SecretSyncError) return false
  const e = error as ErrorShape
  if (typeof e.name === 'string' && THROTTLING.has(e.name)) return true
  if (typeof e.code === 'string' && THROTTLING.has(e.code)) return true
  return httpStatusOf(e) === 429
}

/**
 * Whether a failed call says something about the service's health, so it counts toward opening its breaker:
 * 5xx, 408, timeouts and network failures do; throttling (429, SlowDown...) and other 4xx (not found, denied,
 * conflicts, validation) do not, since the service answered. Our own errors (a nested breaker's CIRCUIT_OPEN, config errors) and
 * local mistakes (ERR_INVALID_URL) do not.
 * Anything unrecognised counts: better to stop calling a service that fails in unknown ways than to hammer it.
 */
export function isBreakerFailure(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object') return true
  const e = error as ErrorShape
  if (error instanceof SecretSyncError)
    return e.cause !== undefined && depth < 5 && isBreakerFailure(e.cause, depth + 1)
  if (e.name === 'AbortError') return false
  if (isThrottlingError(e)) return false
  if (typeof e.name === 'string' && TIMEOUTS.has(e.name)) return true
  const status = httpStatusOf(e)
  if (status !== undefined) return status === 408 || status >= 500
  if (isNetworkCode(e.code)) return true
  if (isLocalCode(e.code)) return false
  if (e.cause !== undefined && depth < 5) return isBreakerFailure(e.cause, depth + 1)
  if (e.$fault === 'client') return false
  return true
}

/** A failed request as a metrics status label: its HTTP status, else `timeout` or `error`. Never a message. */
export function statusOf(error: unknown): string {
  if (error === null || typeof error !== 'object') return 'error'
  const e = error as ErrorShape
  const status = httpStatusOf(e)
  if (status !== undefined) return String(status)
  if (
    (typeof e.name === 'string' && TIMEOUTS.has(e.name)) ||
    (typeof e.code === 'string' && TIMEOUT_CODES.has(e.code))
  ) {
    return 'timeout'
  }
  return 'error'
}
