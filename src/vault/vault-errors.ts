import {ExitCode, SecretSyncError} from '../errors.js'
import {isNetworkCode} from '../resilience/failure-classification.js'

/** What a failed Vault call looked like, reduced to what is safe to print: never headers, tokens or bodies. */
export interface VaultFailure {
  status?: number
  /** Network-level code: ECONNRESET, ECONNREFUSED, ECONNABORTED (timeout)... */
  networkCode?: string
  message: string
}

export function describeVaultFailure(error: unknown): VaultFailure {
  const e = error as {response?: {statusCode?: number}; code?: string; message?: string}
  const status = e?.response?.statusCode
  if (typeof status === 'number') {
    // node-vault puts Vault's first error string in the message; Vault's errors name paths, never values.
    return {status, message: `HTTP ${status}: ${(e.message ?? '').split('\n')[0]?.trim() || 'no error text'}`}
  }
  const networkCode = typeof e?.code === 'string' ? e.code : undefined
  const text =
    networkCode === 'ECONNABORTED' || /timeout/i.test(e?.message ?? '')
      ? 'request timed out'
      : (e?.message ?? String(error))
  return {networkCode, message: networkCode ? `${networkCode}: ${text}` : text}
}

/** Throttling, server errors and network failures are worth retrying; other client errors are not. */
export function isRetryableVaultError(error: unknown): boolean {
  const failure = describeVaultFailure(error)
  if (failure.status !== undefined)
    return failure.status === 429 || failure.status === 412 || (failure.status >= 500 && failure.status !== 501)
  // The network failing is; a request that cannot be sent as asked (ERR_INVALID_URL, ERR_REDIRECT_REFUSED) is not.
  return isNetworkCode(failure.networkCode)
}

export class VaultError extends SecretSyncError {
  constructor(
    code: 'VAULT_AUTH_FAILED' | 'VAULT_REQUEST_FAILED' | 'VAULT_MOUNT_UNSUPPORTED' | 'VAULT_TOKEN_INVALID',
    message: string,
    hint?: string,
  ) {
    super(code, message, ExitCode.failure, {hint})
  }
}
