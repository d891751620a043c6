import {randomUUID, type KeyObject} from 'node:crypto'
import {KvStore} from './kv-store.js'
import type {Policy} from './policy.js'

export type SecretMountType = 'kv' | 'system' | 'cubbyhole' | 'identity'

export interface SecretMount {
  /** Mount path inside its namespace, ending in `/` (`secret/`, `teams/platform/kv/`). */
  path: string
  type: SecretMountType
  accessor: string
  uuid: string
  description: string
  /** Storage of KV v2 mounts. */
  kv?: KvStore
}

export interface AppRoleRole {
  name: string
  roleId: string
  secretIds: Set<string>
  policies: Policy[]
  tokenTtlSeconds?: number
  /** The role's `token_max_ttl`: no renewal of its tokens reaches beyond it. */
  tokenMaxTtlSeconds?: number
}

export interface KubernetesRole {
  name: string
  serviceAccountJwt: string
  policies: Policy[]
  tokenTtlSeconds?: number
  tokenMaxTtlSeconds?: number
}

export interface JwtAuthConfig {
  /** `jwt_validation_pubkeys`: PEM public keys (or JWKs) a token's signature must verify against. */
  publicKeys: KeyObject[]
  /** `bound_issuer`: the `iss` every token must carry (unchecked when empty). */
  boundIssuer: string
}

export interface JwtRole {
  name: string
  /** `bound_audiences`: one must be in the token's `aud`; with none, a token that has an `aud` is refused. */
  boundAudiences: string[]
  boundSubject: string
  /** `bound_claims` (type string): each claim must equal one of the values. */
  boundClaims: Record<string, string[]>
  /** `user_claim`: names the identity (default `sub`); the token must have it. */
  userClaim: string
  policies: Policy[]
  tokenTtlSeconds?: number
  tokenMaxTtlSeconds?: number
}

export interface AwsAuthConfig {
  /** `sts_endpoint`: where the signed GetCallerIdentity is sent (the test AWS server). */
  stsEndpoint: string
  /** `sts_region`: the region the request must be signed for (default us-east-1, the global endpoint). */
  stsRegion: string
  /** `iam_server_id_header_value`: X-Vault-AWS-IAM-Server-ID must carry it and be signed. */
  iamServerIdHeaderValue: string
}

export interface AwsRole {
  name: string
  /** `bound_iam_principal_arn`: canonical ARNs (`arn:aws:iam::<acct>:role/<name>`), a trailing `*` globs. */
  boundIamPrincipalArns: string[]
  policies: Policy[]
  tokenTtlSeconds?: number
  tokenMaxTtlSeconds?: number
}

interface AuthMountBase {
  /** Path below `auth/`, ending in `/` (`approle/`). */
  path: string
  accessor: string
  uuid: string
}

export type AuthMount =
  | (AuthMountBase & {type: 'token'})
  | (AuthMountBase & {type: 'approle'; roles: Map<string, AppRoleRole>})
  | (AuthMountBase & {type: 'kubernetes'; roles: Map<string, KubernetesRole>})
  | (AuthMountBase & {type: 'jwt'; config?: JwtAuthConfig; roles: Map<string, JwtRole>})
  | (AuthMountBase & {type: 'aws'; config?: AwsAuthConfig; roles: Map<string, AwsRole>})

export interface NamespaceState {
  /** `''` for the root namespace, otherwise the full path ending in `/` (`ns1/`, `ns1/team/`). */
  path: string
  id: string
  mounts: Map<string, SecretMount>
  auth: Map<string, AuthMount>
}

/** `ns1`, `/ns1/` and `ns1/` all name the namespace `ns1/`; empty names the root. */
export const normalizeNamespace = (name: string | undefined): string => {
  const trimmed = (name ?? '').replace(/^\/+|\/+$/g, '')
  return trimmed === '' ? '' : `${trimmed}/`
}

/** Mount paths as Vault stores them: no leading `/`, one trailing `/`. */
export const normalizeMountPath = (path: string): string => `${path.replace(/^\/+|\/+$/g, '')}/`

const accessorFor = (type: string): string => `${type}_${randomUUID().slice(0, 8)}`

const longestPrefix = <T extends {path: string}>(entries: Iterable<T>, path: string): T | undefined => {
  let best: T | undefined
  for (const entry of entries) {
    if (path.startsWith(entry.path) && (best === undefined || entry.path.length > best.path.length)) best = entry
  }
  return best
}

/** Namespaces with their secret and auth mounts. Tokens live in `TokenStore`, shared by all namespaces. */
export class VaultState {
  private readonly namespaces = new Map<string, NamespaceState>()

  constructor(readonly now: () => number) {
    this.namespace('')
  }

  /** The namespace (created with its parents and built-in mounts when missing). */
  namespace(name: string | undefined): NamespaceState {
    const path = normalizeNamespace(name)
    const existing = this.namespaces.get(path)
    if (existing) return existing
    const parent = path.replace(/[^/]+\/$/, '')
    if (path !== '' && parent !== '') this.namespace(parent)
    const ns: NamespaceState = {
      path,
      id: path === '' ? 'root' : randomUUID().slice(0, 5),
      mounts: new Map(),
      auth: new Map(),
    }
    // Every Vault namespace starts with these mounts; they let `sys/internal/ui/mounts` resolve `sys/...`.
    for (const [mountPath, type, description] of [
      ['sys/', 'system', 'system endpoints used for control, policy and debugging'],
      ['cubbyhole/', 'cubbyhole', 'per-token private secret storage'],
      ['identity/', 'identity', 'identity store'],
    ] as const) {
      ns.mounts.set(mountPath, {path: mountPath, type, description, accessor: accessorFor(type), uuid: randomUUID()})
    }
    ns.auth.set('token/', {path: 'token/', type: 'token', accessor: accessorFor('auth_token'), uuid: randomUUID()})
    this.namespaces.set(path, ns)
    return ns
  }

  /**
   * Splits a request into namespace and path as Vault Enterprise does: the `X-Vault-Namespace` header and the
   * request path are joined, and the longest existing namespace prefix wins (`ns1/secret/data/x`).
   */
  resolve(header: string | undefined, path: string): {namespace: NamespaceState; path: string} {
    const full = normalizeNamespace(header) + path
    const match = longestPrefix(
      [...this.namespaces.values()].filter((ns) => ns.path !== ''),
      full,
    )
    const namespace = match ?? this.namespace('')
    return {namespace, path: full.slice(namespace.path.length)}
  }

  /** Mounts a KV v2 engine; mounting the same path again is a no-op, overlapping another mount is an error. */
  mountKv(namespace: string | undefined, mountPath: string): SecretMount {
    const ns = this.namespace(namespace)
    const path = normalizeMountPath(mountPath)
    const existing = ns.mounts.get(path)
    if (existing?.type === 'kv') return existing
    for (const other of ns.mounts.values()) {
      if (path.startsWith(other.path) || other.path.startsWith(path)) {
        throw new Error(`cannot mount ${path} in namespace "${ns.path}": it overlaps the existing mount ${other.path}`)
      }
    }
    const mount: SecretMount = {
      path,
      type: 'kv',
      description: 'key/value secret storage',
      accessor: accessorFor('kv'),
      uuid: randomUUID(),
      kv: new KvStore(this.now),
    }
    ns.mounts.set(path, mount)
    return mount
  }

  /** The KV store mounted exactly at `mountPath`; a seeding mistake is a thrown error, not a 404. */
  kv(namespace: string | undefined, mountPath: string): KvStore {
    const ns = this.namespace(namespace)
    const mount = ns.mounts.get(normalizeMountPath(mountPath))
    if (!mount?.kv) throw new Error(`no KV v2 mount at ${normalizeMountPath(mountPath)} in namespace "${ns.path}"`)
    return mount.kv
  }

  /** Longest secret mount whose path prefixes `path` (Vault's router match). */
  matchMount(ns: NamespaceState, path: string): SecretMount | undefined {
    return longestPrefix(ns.mounts.values(), path)
  }

  /** Longest auth mount prefixing `path` (the part after `auth/`). */
  matchAuthMount(ns: NamespaceState, path: string): AuthMount | undefined {
    return longestPrefix(ns.auth.values(), path)
  }

  /** Longest existing namespace prefixing `fullPath` (root-relative). */
  matchNamespace(fullPath: string): NamespaceState {
    return longestPrefix(this.namespaces.values(), fullPath) ?? this.namespace('')
  }

  /** The auth mount of that type at `mount` (created when missing). */
  authMount<T extends 'approle' | 'kubernetes' | 'jwt' | 'aws'>(
    namespace: string | undefined,
    mount: string,
    type: T,
  ): Extract<AuthMount, {type: T}> {
    const ns = this.namespace(namespace)
    const path = normalizeMountPath(mount)
    const existing = ns.auth.get(path)
    if (existing && existing.type !== type) throw new Error(`auth/${path} is a ${existing.type} mount, not ${type}`)
    const entry = existing ?? {path, type, roles: new Map(), accessor: accessorFor(`auth_${type}`), uuid: randomUUID()}
    ns.auth.set(path, entry as AuthMount)
    return entry as Extract<AuthMount, {type: T}>
  }
}
