import {randomUUID} from 'node:crypto'

/** What a route answers before it is written to the socket. */
export interface VaultResponse {
  status: number
  /** JSON body; none for 204. */
  body?: unknown
}

/** A documented Vault error: a status and the `{"errors": [...]}` body Vault sends with it. */
export class VaultError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors[0] ?? `status ${status}`)
  }
}

/**
 * Vault's core wraps ACL and backend errors in a go-multierror, and its `Error()` text is what reaches the wire:
 * `1 error occurred:\n\t* permission denied\n\n`.
 */
export const multiError = (...messages: string[]): string =>
  `${messages.length} error${messages.length === 1 ? '' : 's'} occurred:\n${messages.map((m) => `\t* ${m}`).join('\n')}\n\n`

/** A valid token whose policies do not grant the capability. */
export const permissionDenied = (): VaultError => new VaultError(403, [multiError('permission denied')])

/**
 * An unknown, revoked or expired token. Since Vault 1.16 the answer names both errors (Vault's
 * `TestToken_InvalidTokenError`); older servers sent only `permission denied`, so clients should match on that.
 */
export const invalidToken = (): VaultError => new VaultError(403, [multiError('permission denied', 'invalid token')])

/** No token at all on a path that needs one. */
export const missingToken = (): VaultError => new VaultError(403, ['permission denied'])

/** A read of nothing, or a LIST of an empty folder: Vault answers 404 with an empty error list. */
export const notFound = (): VaultError => new VaultError(404, [])

export const badRequest = (message: string): VaultError => new VaultError(400, [message])

/** A path a mounted backend does not serve (`logical.ErrUnsupportedPath`). */
export const unsupportedPath = (): VaultError => new VaultError(404, [multiError('unsupported path')])

/** A method the matched path does not serve (`logical.ErrUnsupportedOperation`). */
export const unsupportedOperation = (): VaultError => new VaultError(405, [multiError('unsupported operation')])

/** A path below no mount at all (the router's own error, not wrapped). */
export const noHandler = (path: string): VaultError =>
  new VaultError(404, [`no handler for route ${JSON.stringify(path)}. route entry not found.`])

export interface EnvelopeFields {
  data?: unknown
  auth?: unknown
  warnings?: string[]
  mountType?: string
}

/** Every JSON answer of Vault's logical API carries this envelope (`logical.HTTPResponse` plus `mount_type`). */
export const envelope = (fields: EnvelopeFields): Record<string, unknown> => ({
  request_id: randomUUID(),
  lease_id: '',
  renewable: false,
  lease_duration: 0,
  data: fields.data ?? null,
  wrap_info: null,
  warnings: fields.warnings && fields.warnings.length > 0 ? fields.warnings : null,
  auth: fields.auth ?? null,
  mount_type: fields.mountType ?? '',
})

export const ok = (fields: EnvelopeFields): VaultResponse => ({status: 200, body: envelope(fields)})

export const noContent = (): VaultResponse => ({status: 204})

/** RFC 3339 timestamps as Vault prints them (Go's `time.Time` JSON, UTC). */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString()
