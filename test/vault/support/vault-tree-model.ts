import {seededRandom} from '../../support/controls.js'
import type {Policy, VaultServer} from '../../support/vault/vault-server.js'

/**
 * A seeded generator of Vault KV v2 trees for model-based walk tests, and the oracle that says, from the
 * fixture alone, what a walk of each source must read and skip (DESIGN §4). Nothing here asks the client.
 */

export type SkipReason = 'deleted' | 'forbidden' | 'not_found' | 'max_depth' | 'unsafe_key'

export interface ModelFolder {
  /** Folder path relative to its mount, `''` for the mount root, else ending in `/`. */
  path: string
  denied: boolean
  folders: ModelFolder[]
  secrets: ModelSecret[]
  /** Keys added verbatim to this folder's LIST answer that a walk must refuse. */
  unsafe: string[]
}

export interface ModelSecret {
  /** Key relative to the mount. */
  key: string
  state: 'live' | 'deleted' | 'destroyed'
  denied: boolean
  data: Record<string, string>
}

export interface ModelSource {
  name: string
  /** KV mount the source lives in (`m7/`, `n7/team/kv/`). */
  mount: string
  /** Folder below the mount the source walks (`''` or ending in `/`). */
  root: string
  maxDepth: number
}

export interface VaultTreeModel {
  seed: number
  mounts: Map<string, ModelFolder>
  sources: ModelSource[]
  /** Vault concurrency for the run, 1..32. */
  concurrency: number
  jitterMs: number
  faults: {list: number; read: number; status: number}
}

export interface SourceOracle {
  secrets: Map<string, Record<string, string>>
  /** Every skip but deleted ones, in the report's order (folders first, by reason, by path). */
  incomplete: Array<{kind: 'folder' | 'secret'; path: string; reason: SkipReason}>
  skipped: Record<SkipReason, number>
  complete: boolean
  lists: number
  reads: number
}

// Legal but hostile key text: prototype names, unicode, spaces, an encoded slash, punctuation.
const NAMES = [
  'a',
  'b',
  'db',
  'api',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'ünïcødé',
  'with space',
  'a%2Fb',
  '日本',
  'x.y',
  '-dash',
  '@at',
  '=eq',
  'emoji🔑',
]
const UNSAFE = ['../up', '../esc/', 'a//b', 'a//b/', '/abs', 'nul\u0000x', 'x/../y']

export function generateModel(seed: number): VaultTreeModel {
  const random = seededRandom(seed)
  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1))
  const chance = (p: number): boolean => random() < p
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  const names = (count: number): string[] => [...new Set(Array.from({length: count}, () => pick(NAMES)))]

  const folder = (mount: string, path: string, depth: number): ModelFolder => {
    // A folder exists in Vault only while some key lies below it: every one holds a secret.
    const secrets = names(int(1, 2)).map((name): ModelSecret => {
      const key = `${path}${name}`
      return {
        key,
        state: chance(0.1) ? 'deleted' : chance(0.05) ? 'destroyed' : 'live',
        denied: chance(0.06),
        data: {v: `${seed}:${mount}${key}`},
      }
    })
    const folders =
      depth >= 3
        ? []
        : names(int(depth === 0 ? 1 : 0, depth === 0 ? 2 : 1)).map((name) =>
            folder(mount, `${path}${name}/`, depth + 1),
          )
    return {path, denied: depth > 0 && chance(0.07), folders, secrets, unsafe: chance(0.08) ? [pick(UNSAFE)] : []}
  }

  const mounts = new Map<string, ModelFolder>()
  for (const mount of [`m${seed}/`, `n${seed}/team/kv/`]) mounts.set(mount, folder(mount, '', 0))
  const candidates = [...mounts].flatMap(([mount, root]) => allFolders(root).map((f) => ({mount, root: f.path})))
  const count = Math.min(candidates.length, int(2, 3))
  const chosen = new Set<number>()
  while (chosen.size < count) chosen.add(Math.floor(random() * candidates.length))
  const sources = [...chosen].map((index, i) => ({
    ...(candidates[index] as {mount: string; root: string}),
    name: `s${i}`,
    maxDepth: int(1, 3),
  }))
  return {
    seed,
    mounts,
    sources,
    concurrency: int(1, 32),
    jitterMs: int(0, 2),
    faults: {list: int(0, 2), read: int(0, 3), status: pick([500, 502, 503])},
  }
}

export const allFolders = (root: ModelFolder): ModelFolder[] => [root, ...root.folders.flatMap(allFolders)]

const findFolder = (root: ModelFolder, path: string): ModelFolder | undefined =>
  allFolders(root).find((f) => f.path === path)

/** Writes the model into the test Vault and returns the ACL rules it needs (an allow-all plus exact denies). */
export function seedModel(vault: VaultServer, model: VaultTreeModel): Policy[] {
  const denies: Policy[] = []
  for (const [mount, root] of model.mounts) {
    vault.mountKv(mount)
    for (const f of allFolders(root)) {
      for (const secret of f.secrets) {
        vault.putSecret(mount, secret.key, secret.data)
        if (secret.state === 'deleted') vault.deleteLatest(mount, secret.key)
        if (secret.state === 'destroyed') vault.destroyLatest(mount, secret.key)
        if (secret.denied) denies.push({path: `${mount}data/${secret.key}`, capabilities: ['deny']})
      }
      if (f.unsafe.length > 0) vault.addListingAlias(mount, f.path, f.unsafe)
      if (f.denied) denies.push({path: `${mount}metadata/${f.path}`, capabilities: ['deny']})
    }
  }
  return denies
}

/** What a walk of `source` must do, from the fixture alone. */
export function oracleFor(model: VaultTreeModel, source: ModelSource): SourceOracle {
  const root = findFolder(model.mounts.get(source.mount) as ModelFolder, source.root) as ModelFolder
  const out: SourceOracle = {
    secrets: new Map(),
    incomplete: [],
    skipped: {deleted: 0, forbidden: 0, not_found: 0, max_depth: 0, unsafe_key: 0},
    complete: true,
    lists: 0,
    reads: 0,
  }
  const skip = (kind: 'folder' | 'secret', relative: string, reason: SkipReason): void => {
    out.skipped[reason]++
    if (reason !== 'deleted') out.incomplete.push({kind, path: `${source.mount}${relative}`, reason})
  }
  const visit = (f: ModelFolder, depth: number): void => {
    out.lists++
    if (f.denied) return skip('folder', f.path, 'forbidden')
    for (const key of f.unsafe) skip(key.endsWith('/') ? 'folder' : 'secret', `${f.path}${key}`, 'unsafe_key')
    for (const secret of f.secrets) {
      out.reads++
      // Vault checks the ACL before it looks at the secret: a denied deleted secret is a denial.
      if (secret.denied) skip('secret', secret.key, 'forbidden')
      else if (secret.state !== 'live') skip('secret', secret.key, 'deleted')
      else out.secrets.set(secret.key.slice(source.root.length), secret.data)
    }
    for (const child of f.folders) {
      if (depth + 1 > source.maxDepth) skip('folder', child.path, 'max_depth')
      else visit(child, depth + 1)
    }
  }
  visit(root, 0)
  const order: SkipReason[] = ['deleted', 'forbidden', 'not_found', 'max_depth', 'unsafe_key']
  const rank = (item: {kind: string; reason: SkipReason}): string =>
    `${item.kind === 'folder' ? 0 : 1}${order.indexOf(item.reason)}`
  out.incomplete.sort((a, b) => rank(a).localeCompare(rank(b)) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  out.complete = out.incomplete.length === 0
  return out
}

/** One line describing the model, for failure messages. */
export const describeModel = (model: VaultTreeModel): string =>
  `concurrency ${model.concurrency}, jitter ≤${model.jitterMs} ms, faults list ${model.faults.list} read ${model.faults.read} (${model.faults.status}), sources ${model.sources.map((s) => `${s.name}=${s.mount}${s.root} depth≤${s.maxDepth}`).join(' ')}`
