import {asFolder, versionData, type KvSecret, type KvStore, type KvVersion} from './kv-store.js'
import {
  badRequest,
  envelope,
  noContent,
  notFound,
  ok,
  rfc3339,
  unsupportedOperation,
  unsupportedPath,
  type VaultResponse,
} from './responses.js'
import {failingRoute, objectField, type Route, type RouteContext, type RouteInput} from './route.js'

interface KvMount {
  path: string
  kv: KvStore
}

const kvOk = (data: unknown): VaultResponse => ok({data, mountType: 'kv'})

const versionMetadata = (version: number, record: KvVersion, secret: KvSecret): Record<string, unknown> => ({
  created_time: rfc3339(record.createdAt),
  custom_metadata: secret.customMetadata,
  deletion_time: record.deletedAt === null ? '' : rfc3339(record.deletedAt),
  destroyed: record.destroyed,
  version,
})

/** Go's strconv-style integer parsing of a field; anything else is the framework's 400. */
function intField(raw: unknown, field: string): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined
  const n = typeof raw === 'number' ? raw : Number(raw)
  if (!Number.isInteger(n)) throw badRequest(`error converting input ${String(raw)} for field ${JSON.stringify(field)}`)
  return n
}

/** `versions` as Vault's comma-int-slice field accepts it: `[1, 2]`, `["1"]` or `"1,2"`. */
function versionsField(body: Record<string, unknown>): number[] {
  const raw = body.versions
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : raw === undefined ? [] : [raw]
  const versions = items.map((item) => intField(typeof item === 'string' ? item.trim() : item, 'versions'))
  const numbers = versions.filter((v): v is number => v !== undefined)
  if (numbers.length === 0) throw badRequest('no version number provided')
  return numbers
}

function readData(kv: KvStore, key: string, ctx: RouteContext): VaultResponse {
  const result = kv.read(key, intField(ctx.query.get('version'), 'version') ?? 0)
  if (result.kind === 'missing') throw notFound()
  const metadata = versionMetadata(result.version, result.record, result.secret)
  // A deleted or destroyed version answers 404 with the full envelope (data null, metadata set), not an error.
  if (result.kind === 'gone') return {status: 404, body: envelope({data: {data: null, metadata}, mountType: 'kv'})}
  return kvOk({data: versionData(result.record), metadata})
}

function writeData(kv: KvStore, key: string, ctx: RouteContext): VaultResponse {
  const data = objectField(ctx.body, 'data')
  if (!data) throw badRequest('no data provided')
  const casRaw = objectField(ctx.body, 'options')?.cas
  const cas = casRaw === undefined ? undefined : Number(casRaw)
  if (cas !== undefined && !Number.isInteger(cas)) throw badRequest('error parsing check-and-set parameter')
  const {version, record, secret} = kv.write(key, data, cas)
  return kvOk(versionMetadata(version, record, secret))
}

function readMetadata(kv: KvStore, key: string): VaultResponse {
  const secret = kv.metadata(key)
  if (!secret) throw notFound()
  const versions: Record<string, unknown> = {}
  for (const [number, record] of secret.versions) {
    versions[String(number)] = {
      created_time: rfc3339(record.createdAt),
      deletion_time: record.deletedAt === null ? '' : rfc3339(record.deletedAt),
      destroyed: record.destroyed,
    }
  }
  return kvOk({
    cas_required: secret.casRequired,
    created_time: rfc3339(secret.createdAt),
    current_version: secret.currentVersion,
    custom_metadata: secret.customMetadata,
    delete_version_after: '0s',
    max_versions: secret.maxVersions,
    oldest_version: secret.oldestVersion,
    updated_time: rfc3339(secret.updatedAt),
    versions,
  })
}

function writeMetadata(kv: KvStore, key: string, body: Record<string, unknown>): VaultResponse {
  const custom = objectField(body, 'custom_metadata')
  kv.writeMetadata(key, {
    maxVersions: intField(body.max_versions, 'max_versions'),
    casRequired: typeof body.cas_required === 'boolean' ? body.cas_required : undefined,
    customMetadata: custom ? Object.fromEntries(Object.entries(custom).map(([k, v]) => [k, String(v)])) : undefined,
  })
  return noContent()
}

function dataRoute(mount: KvMount, key: string, input: RouteInput): Route {
  const path = `${mount.path}data/${key}`
  // Vault's data pattern needs a key not ending in `/`; LIST appends one, so it never matches either.
  if (input.list || key === '' || key.endsWith('/')) return failingRoute(path, input, unsupportedPath)
  const {kv} = mount
  switch (input.method) {
    case 'GET':
      return {
        operation: 'read',
        access: {kind: 'acl', path, capability: 'read'},
        handle: (ctx) => readData(kv, key, ctx),
      }
    case 'POST':
    case 'PUT':
      return {
        operation: 'write',
        // Vault's existence check: writing a new key needs `create`, overwriting one needs `update`.
        access: {kind: 'acl', path, capability: kv.exists(key) ? 'update' : 'create'},
        handle: (ctx) => writeData(kv, key, ctx),
      }
    case 'DELETE':
      return {
        operation: 'delete',
        access: {kind: 'acl', path, capability: 'delete'},
        handle: () => {
          kv.deleteVersions(key, [kv.latestVersion(key)])
          return noContent()
        },
      }
  }
  return failingRoute(path, input, unsupportedOperation)
}

function metadataRoute(mount: KvMount, key: string, input: RouteInput): Route {
  const path = `${mount.path}metadata/${key}`
  const {kv} = mount
  if (input.list) {
    return {
      operation: 'list',
      // Vault appends `/` to the path of every LIST before the ACL check and routing.
      access: {kind: 'acl', path: asFolder(path), capability: 'list'},
      handle: () => {
        const keys = kv.list(key)
        if (keys.length === 0) throw notFound()
        return kvOk({keys})
      },
    }
  }
  switch (input.method) {
    case 'GET':
      return {
        operation: 'metadata-read',
        access: {kind: 'acl', path, capability: 'read'},
        handle: () => readMetadata(kv, key),
      }
    case 'DELETE':
      return {
        operation: 'metadata-delete',
        access: {kind: 'acl', path, capability: 'delete'},
        handle: () => {
          kv.deleteMetadata(key)
          return noContent()
        },
      }
    case 'POST':
    case 'PUT':
      return {
        operation: 'write',
        access: {kind: 'acl', path, capability: kv.exists(key) ? 'update' : 'create'},
        handle: (ctx) => writeMetadata(kv, key, ctx.body),
      }
  }
  return failingRoute(path, input, unsupportedOperation)
}

const VERSION_ACTIONS = {
  delete: (kv: KvStore, key: string, versions: number[]) => kv.deleteVersions(key, versions),
  undelete: (kv: KvStore, key: string, versions: number[]) => kv.undeleteVersions(key, versions),
  destroy: (kv: KvStore, key: string, versions: number[]) => kv.destroyVersions(key, versions),
}

function versionsRoute(mount: KvMount, action: keyof typeof VERSION_ACTIONS, key: string, input: RouteInput): Route {
  const path = `${mount.path}${action}/${key}`
  if (input.list || key === '') return failingRoute(path, input, unsupportedPath)
  if (input.method !== 'POST' && input.method !== 'PUT') return failingRoute(path, input, unsupportedOperation)
  return {
    operation: action === 'undelete' ? 'write' : 'delete',
    // All three are update operations on their own path prefix (the KV v2 docs' policy examples).
    access: {kind: 'acl', path, capability: 'update'},
    handle: (ctx) => {
      VERSION_ACTIONS[action](mount.kv, key, versionsField(ctx.body))
      return noContent()
    },
  }
}

/**
 * Routes a request below a KV v2 mount (`rest` is the path after the mount: `data/app/db`). Vault's LIST
 * verb cannot reach this server (Node's HTTP parser rejects unknown methods with 400 before any handler
 * runs), so LIST arrives as `GET ?list=true`, which real Vault accepts as well.
 */
export function kvRoute(mount: KvMount, rest: string, input: RouteInput): Route {
  const slash = rest.indexOf('/')
  const section = slash === -1 ? rest : rest.slice(0, slash)
  const key = slash === -1 ? '' : rest.slice(slash + 1)
  switch (section) {
    case 'data':
      return dataRoute(mount, key, input)
    case 'metadata':
      return metadataRoute(mount, key, input)
    case 'delete':
    case 'undelete':
    case 'destroy':
      return versionsRoute(mount, section, key, input)
    case 'config':
      if (input.method === 'GET' && !input.list && key === '') {
        return {
          operation: 'read',
          access: {kind: 'acl', path: `${mount.path}config`, capability: 'read'},
          handle: () => kvOk({cas_required: false, delete_version_after: '0s', max_versions: 0}),
        }
      }
  }
  return failingRoute(mount.path + rest, input, unsupportedPath)
}
