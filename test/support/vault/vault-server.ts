import {createPublicKey, randomUUID, type JsonWebKey} from 'node:crypto'
import {Controls} from '../controls.js'
import {listen, type ServerTls} from '../http-server.js'
import {handleVaultRequest} from './http-handler.js'
import {versionData} from './kv-store.js'
import type {Policy} from './policy.js'
import {VaultState} from './state.js'
import {TokenStore} from './tokens.js'

export type {Capability, Policy} from './policy.js'
export type {VaultOperation} from './route.js'

export interface VaultServerOptions {
  /** 0 (default) picks a free port. */
  port?: number
  controls?: Controls
  /** Clock for token TTLs, version timestamps and quotas (ms since epoch). */
  now?: () => number
  /** Default `root`. */
  rootToken?: string
  /**
   * Answer unknown, expired and revoked tokens as Vault before 1.16 did: 403 `{"errors":["permission denied"]}`,
   * indistinguishable from a policy denial (default: 1.16+, which adds "invalid token").
   */
  legacyTokenErrors?: boolean
  /** Serve https:// with this certificate (test/support/fixtures/tls). */
  tls?: ServerTls
}

export interface NamespaceOption {
  /** Vault Enterprise namespace (`ns1`, `ns1/team`); the root namespace when unset. */
  namespace?: string
}

export interface CreateTokenOptions extends NamespaceOption {
  policies: Policy[]
  /** Default 768h, Vault's system default. */
  ttlSeconds?: number
  /** Default true. */
  renewable?: boolean
  /** Explicit max TTL; renewals never reach beyond issue time + this (default 768h). */
  maxTtlSeconds?: number
}

export interface AppRoleOptions extends NamespaceOption {
  policies: Policy[]
  tokenTtlSeconds?: number
  /** The role's `token_max_ttl` (default 768h). */
  tokenMaxTtlSeconds?: number
  /** Auth mount path (default `approle`). */
  mount?: string
}

export interface KubernetesRoleOptions extends NamespaceOption {
  policies: Policy[]
  /** The one JWT this role accepts (stands in for Kubernetes' TokenReview). */
  serviceAccountJwt: string
  tokenTtlSeconds?: number
  tokenMaxTtlSeconds?: number
  /** Auth mount path (default `kubernetes`). */
  mount?: string
}

export interface JwtAuthOptions extends NamespaceOption {
  /** `jwt_validation_pubkeys`: PEM public keys (or JWK objects) tokens are verified against. */
  publicKeys: Array<string | JsonWebKey>
  boundIssuer?: string
  /** Auth mount path (default `jwt`). */
  mount?: string
}

export interface JwtRoleOptions extends NamespaceOption {
  policies: Policy[]
  boundAudiences?: string[]
  boundSubject?: string
  boundClaims?: Record<string, string | string[]>
  /** Default `sub`. */
  userClaim?: string
  tokenTtlSeconds?: number
  tokenMaxTtlSeconds?: number
  mount?: string
}

export interface AwsAuthOptions extends NamespaceOption {
  /** `sts_endpoint`: where Vault sends the signed GetCallerIdentity (the test AWS server's URL). */
  stsEndpoint: string
  /** `sts_region` (default us-east-1: the global endpoint sts.amazonaws.com). */
  stsRegion?: string
  iamServerIdHeaderValue?: string
  /** Auth mount path (default `aws`). */
  mount?: string
}

export interface AwsRoleOptions extends NamespaceOption {
  policies: Policy[]
  boundIamPrincipalArns: string[]
  tokenTtlSeconds?: number
  tokenMaxTtlSeconds?: number
  mount?: string
}

/** A running in-process Vault: the HTTP API over real sockets, plus synchronous seeding for tests. */
export interface VaultServer {
  url: string
  port: number
  controls: Controls
  rootToken: string
  close(): Promise<void>
  /** Mounts a KV v2 engine (`secret/`, `teams/platform/kv/`); idempotent, overlapping mounts throw. */
  mountKv(path: string, options?: NamespaceOption): void
  /** Writes a new version of `key` (relative to the mount) and returns its number. */
  putSecret(mountPath: string, key: string, data: Record<string, unknown>, options?: NamespaceOption): number
  /** Soft-deletes the latest version (reads of it answer 404 with `deletion_time`). */
  deleteLatest(mountPath: string, key: string, options?: NamespaceOption): void
  /** Destroys the latest version (its data is gone for good). */
  destroyLatest(mountPath: string, key: string, options?: NamespaceOption): void
  /**
   * Appends keys to a folder's LIST answer (`folder` relative to the mount, `''` for its root), kept verbatim
   * and in order: unsafe keys (`../x`, `a//b`, `/abs`, `nul\u0000x`), duplicates, or a `loop/` to pair with
   * `linkFolder`.
   */
  addListingAlias(mountPath: string, folder: string, extraKeys: string[], options?: NamespaceOption): void
  /** Makes `folder` and everything below it list and read as `target` (a symlink): `a/loop/` -> `a/`. */
  linkFolder(mountPath: string, folder: string, target: string, options?: NamespaceOption): void
  /** Issues a service token with these policies and returns its id. */
  createToken(options: CreateTokenOptions): string
  /** Creates (or extends) an AppRole role; every call adds a fresh secret ID. */
  addAppRole(name: string, options: AppRoleOptions): {roleId: string; secretId: string}
  addKubernetesRole(name: string, options: KubernetesRoleOptions): void
  /** Enables (or reconfigures) a JWT auth mount (`auth/<mount>/config`). */
  configureJwtAuth(options: JwtAuthOptions): void
  addJwtRole(name: string, options: JwtRoleOptions): void
  /** Enables (or reconfigures) an AWS auth mount for the IAM method (`auth/<mount>/config/client`). */
  configureAwsAuth(options: AwsAuthOptions): void
  addAwsRole(name: string, options: AwsRoleOptions): void
  /** Live tokens other than the root token. */
  tokenCount(): number
  /** Revokes a token; returns whether it existed. */
  revokeToken(token: string): boolean
  /** Revokes every token but the root token; returns how many there were. */
  revokeAllTokens(): number
  /** Data of the latest live version, or undefined when missing, deleted or destroyed. */
  readSecret(mountPath: string, key: string, options?: NamespaceOption): Record<string, unknown> | undefined
  /** Current version number of a key (0 when it has none). */
  currentVersion(mountPath: string, key: string, options?: NamespaceOption): number
}

/** Starts the Vault test server on 127.0.0.1 (see docs/design.md §6). */
export async function startVaultServer(options: VaultServerOptions = {}): Promise<VaultServer> {
  const now = options.now ?? Date.now
  const controls = options.controls ?? new Controls(now)
  const rootToken = options.rootToken ?? 'root'
  const state = new VaultState(now)
  const tokens = new TokenStore(now)
  tokens.addRoot(rootToken)

  const deps = {state, tokens, controls, legacyTokenErrors: options.legacyTokenErrors ?? false}
  const running = await listen(
    (req, res) => {
      handleVaultRequest(deps, req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, {'content-type': 'application/json'})
        res.end(`${JSON.stringify({errors: [String(error)]})}\n`)
      })
    },
    options.port ?? 0,
    options.tls,
  )

  return {
    url: running.url,
    port: running.port,
    controls,
    rootToken,
    close: () => running.close(),
    mountKv: (path, opts) => void state.mountKv(opts?.namespace, path),
    putSecret: (mountPath, key, data, opts) => state.kv(opts?.namespace, mountPath).write(key, data).version,
    deleteLatest: (mountPath, key, opts) => {
      const kv = state.kv(opts?.namespace, mountPath)
      kv.deleteVersions(key, [requireVersion(kv.latestVersion(key), mountPath, key)])
    },
    destroyLatest: (mountPath, key, opts) => {
      const kv = state.kv(opts?.namespace, mountPath)
      kv.destroyVersions(key, [requireVersion(kv.latestVersion(key), mountPath, key)])
    },
    addListingAlias: (mountPath, folder, extraKeys, opts) =>
      state.kv(opts?.namespace, mountPath).addAlias(folder, extraKeys),
    linkFolder: (mountPath, folder, target, opts) => state.kv(opts?.namespace, mountPath).link(folder, target),
    createToken: (opts) =>
      tokens.issue({
        namespace: state.namespace(opts.namespace).path,
        policies: opts.policies,
        ttlSeconds: opts.ttlSeconds,
        maxTtlSeconds: opts.maxTtlSeconds,
        renewable: opts.renewable,
        path: 'auth/token/create',
        displayName: 'token',
      }).id,
    addAppRole: (name, opts) => {
      const mount = state.authMount(opts.namespace, opts.mount ?? 'approle', 'approle')
      const role = mount.roles.get(name) ?? {name, roleId: randomUUID(), secretIds: new Set<string>(), policies: []}
      role.policies = opts.policies
      role.tokenTtlSeconds = opts.tokenTtlSeconds
      role.tokenMaxTtlSeconds = opts.tokenMaxTtlSeconds
      const secretId = randomUUID()
      role.secretIds.add(secretId)
      mount.roles.set(name, role)
      return {roleId: role.roleId, secretId}
    },
    addKubernetesRole: (name, opts) => {
      const mount = state.authMount(opts.namespace, opts.mount ?? 'kubernetes', 'kubernetes')
      const {policies, serviceAccountJwt, tokenTtlSeconds, tokenMaxTtlSeconds} = opts
      mount.roles.set(name, {name, policies, serviceAccountJwt, tokenTtlSeconds, tokenMaxTtlSeconds})
    },
    configureJwtAuth: (opts) => {
      const mount = state.authMount(opts.namespace, opts.mount ?? 'jwt', 'jwt')
      mount.config = {
        publicKeys: opts.publicKeys.map((key) =>
          typeof key === 'string' ? createPublicKey(key) : createPublicKey({key, format: 'jwk'}),
        ),
        boundIssuer: opts.boundIssuer ?? '',
      }
    },
    addJwtRole: (name, opts) => {
      const mount = state.authMount(opts.namespace, opts.mount ?? 'jwt', 'jwt')
      mount.roles.set(name, {
        name,
        policies: opts.policies,
        boundAudiences: opts.boundAudiences ?? [],
        boundSubject: opts.boundSubject ?? '',
        boundClaims: Object.fromEntries(
          Object.entries(opts.boundClaims ?? {}).map(([claim, values]) => [claim, [values].flat()]),
        ),
        userClaim: opts.userClaim ?? 'sub',
        tokenTtlSeconds: opts.tokenTtlSeconds,
        tokenMaxTtlSeconds: opts.tokenMaxTtlSeconds,
      })
    },
    configureAwsAuth: (opts) => {
      const mount = state.authMount(opts.namespace, opts.mount ?? 'aws', 'aws')
      mount.config = {
        stsEndpoint: opts.stsEndpoint,
        stsRegion: opts.stsRegion ?? 'us-east-1',
        iamServerIdHeaderValue: opts.iamServerIdHeaderValue ?? '',
      }
    },
    addAwsRole: (name, opts) => {
      const mount = state.authMount(opts.namespace, opts.mount ?? 'aws', 'aws')
      const {policies, boundIamPrincipalArns, tokenTtlSeconds, tokenMaxTtlSeconds} = opts
      mount.roles.set(name, {name, policies, boundIamPrincipalArns, tokenTtlSeconds, tokenMaxTtlSeconds})
    },
    tokenCount: () => tokens.count(),
    revokeToken: (token) => tokens.revoke(token),
    revokeAllTokens: () => tokens.revokeAll(),
    readSecret: (mountPath, key, opts) => {
      const result = state.kv(opts?.namespace, mountPath).read(key)
      return result.kind === 'live' ? (versionData(result.record) ?? undefined) : undefined
    },
    currentVersion: (mountPath, key, opts) => state.kv(opts?.namespace, mountPath).latestVersion(key),
  }
}

function requireVersion(version: number, mountPath: string, key: string): number {
  if (version === 0) throw new Error(`no secret ${key} in ${mountPath}`)
  return version
}
