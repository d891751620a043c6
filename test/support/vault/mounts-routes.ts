import type {Acl} from './policy.js'
import {badRequest, ok, unsupportedOperation, VaultError, type VaultResponse} from './responses.js'
import type {Route, RouteContext, RouteInput} from './route.js'
import type {NamespaceState, SecretMount, VaultState} from './state.js'

/** `mountInfo` of vault/logical_system.go, for the mounts this server has. */
const mountInfo = (mount: {type: string; accessor: string; uuid: string; description?: string}) => ({
  accessor: mount.accessor,
  config: {default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0},
  description: mount.description ?? '',
  external_entropy_access: false,
  local: mount.type === 'cubbyhole',
  options: mount.type === 'kv' ? {version: '2'} : null,
  plugin_version: '',
  running_plugin_version: '',
  running_sha256: '',
  seal_wrap: false,
  type: mount.type,
  uuid: mount.uuid,
})

// `sanitizeMountPath` of vault/logical_system.go.
const sanitize = (path: string): string => `${path.replace(/^\//, '').replace(/\/$/, '')}/`

/**
 * `GET sys/internal/ui/mounts/<path>`: the mount holding `path` (longest prefix, also in child namespaces),
 * the call the `vault` CLI makes before every KV command. An unknown mount and a token without access both
 * answer 403 with the same message so the endpoint cannot be used to enumerate mounts.
 */
function readMount(state: VaultState, ns: NamespaceState, rawPath: string, ctx: RouteContext): VaultResponse {
  if (rawPath === '' || rawPath === '/') throw badRequest('path not set')
  const path = sanitize(rawPath)
  const denied = new VaultError(403, [
    `preflight capability check returned 403, please ensure client's policies grant access to path ${JSON.stringify(path)}`,
  ])
  const target = state.matchNamespace(ns.path + path)
  const mount = state.matchMount(target, (ns.path + path).slice(target.path.length))
  if (!mount) throw denied
  const relative = target.path.slice(ns.path.length) + mount.path
  if (!(ctx.acl as Acl).hasMountAccess(ctx.aclPrefix + relative)) throw denied
  return ok({data: {...mountInfo(mount), path: relative}, mountType: 'system'})
}

/** `GET sys/internal/ui/mounts`: the mounts of this namespace the token can see. */
function listMounts(ns: NamespaceState, ctx: RouteContext): VaultResponse {
  const acl = ctx.acl as Acl
  const visible = (path: string) => acl.hasMountAccess(ctx.aclPrefix + path)
  const secret = [...ns.mounts.values()].filter((m: SecretMount) => visible(m.path))
  const auth = [...ns.auth.values()].filter((m) => visible(`auth/${m.path}`))
  return ok({
    data: {
      secret: Object.fromEntries(secret.map((m) => [m.path, mountInfo(m)])),
      auth: Object.fromEntries(auth.map((m) => [m.path, mountInfo(m)])),
    },
    mountType: 'system',
  })
}

/** Routes `sys/internal/ui/mounts[/<path>]`; `rest` is what follows `sys/internal/ui/mounts`. */
export function uiMountsRoute(state: VaultState, ns: NamespaceState, rest: string, input: RouteInput): Route {
  return {
    operation: 'mounts',
    // An unauthenticated path in Vault, but its handler loads the caller's token to filter the answer.
    access: {kind: 'token'},
    handle: (ctx) => {
      if (input.method !== 'GET' || input.list) throw unsupportedOperation()
      return rest === '' ? listMounts(ns, ctx) : readMount(state, ns, rest.slice(1), ctx)
    },
  }
}
