import {isLosslessNumber} from 'lossless-json'
import {asFolder} from './kv-store.js'
import type {Acl, Capability} from './policy.js'
import type {VaultError, VaultResponse} from './responses.js'
import type {NamespaceState} from './state.js'
import type {TokenRecord} from './tokens.js'

/** Operation names the server reports to `Controls` (counters, faults, quotas). */
export type VaultOperation =
  | 'list'
  | 'read'
  | 'write'
  | 'delete'
  | 'metadata-read'
  | 'metadata-delete'
  | 'mounts'
  | 'health'
  | 'login-token'
  | 'login-approle'
  | 'login-kubernetes'
  | 'login-jwt'
  | 'login-aws'
  | 'renew-self'
  | 'lookup-self'

/** What routing needs to know about a request before its body is looked at. */
export interface RouteInput {
  method: string
  /** Vault's LIST operation (sent as `GET ?list=true`). */
  list: boolean
  query: URLSearchParams
}

/**
 * What the caller must present: nothing (login endpoints), any valid token (token self-service, the mounts
 * preflight), or a token whose ACL grants `capability` on `path` (relative to the request namespace).
 */
export type Access = {kind: 'none'} | {kind: 'token'} | {kind: 'acl'; path: string; capability: Capability}

export interface RouteContext {
  namespace: NamespaceState
  body: Record<string, unknown>
  query: URLSearchParams
  token?: TokenRecord
  acl?: Acl
  /** The request namespace relative to the token's namespace: the prefix of every ACL path. */
  aclPrefix: string
}

export interface Route {
  operation: VaultOperation
  access: Access
  /** A promise only where Vault itself waits on another service (AWS IAM login asks STS). */
  handle(ctx: RouteContext): VaultResponse | Promise<VaultResponse>
}

export const operationFor = (input: RouteInput): VaultOperation =>
  input.list ? 'list' : input.method === 'GET' ? 'read' : input.method === 'DELETE' ? 'delete' : 'write'

/** The capability Vault's ACL checks for a request method (POST/PUT on an existing path is `update`). */
export const capabilityFor = (input: RouteInput): Capability =>
  input.list ? 'list' : input.method === 'GET' ? 'read' : input.method === 'DELETE' ? 'delete' : 'update'

/**
 * A route that fails after the ACL check: Vault checks policies before routing, so a token without access
 * gets 403 even where a root token would get 404 or 405.
 */
export const failingRoute = (path: string, input: RouteInput, error: () => VaultError): Route => ({
  operation: operationFor(input),
  access: {kind: 'acl', path: input.list ? asFolder(path) : path, capability: capabilityFor(input)},
  handle: () => {
    throw error()
  },
})

/** Reads a JSON body field that must be an object (`data`, `custom_metadata`). */
export const objectField = (body: Record<string, unknown>, name: string): Record<string, unknown> | undefined => {
  const value = body[name]
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !isLosslessNumber(value)
    ? (value as Record<string, unknown>)
    : undefined
}
