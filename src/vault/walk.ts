import pLimit from 'p-limit'
import type {Logger} from '../observability/logger.js'
import type {JsonObject} from '../util/canonical-json.js'
import type {VaultReader} from './vault-client.js'

export interface WalkOptions {
  /** KV v2 mount, e.g. `secret/`. */
  mount: string
  /** Folder below the mount to start from (`''` for the mount root, else ending in `/`). */
  root: string
  maxSecrets: number
  maxDepth: number
  compactionThreshold: number
  /** Shared limiter so every Vault request of the run respects `vault.concurrency`. */
  limit: ReturnType<typeof pLimit>
  logger: Logger
  onProgress?: (progress: {folders: number; secrets: number}) => void
}

export interface WalkStats {
  lists: number
  reads: number
  folders: number
  secrets: number
  skippedDeleted: number
  compactions: number
  /** Largest number of already-processed entries the queue array held: what compaction bounds. */
  maxProcessedRetained: number
  /** Largest physical length of the queue array. */
  maxQueueLength: number
}

export interface WalkResult {
  /** Relative path below the source root → the secret's data. */
  secrets: Map<string, JsonObject>
  warnings: string[]
  stats: WalkStats
}

export class SourceLimitError extends Error {}

interface QueueEntry {
  folder: string
  depth: number
}

// A key is refused when it could escape or alias its folder: `..` segments, NUL, `//`, or a leading `/`.
export const isUnsafeKey = (key: string): boolean => /(^|\/)\.\.(\/|$)/.test(key) || key.includes('\0') || key.includes('//') || key.startsWith('/')

// `.` segments name the folder itself; dropping them lets the visited set catch listings that point back.
const normalise = (path: string): string => path.split('/').filter((segment, i, all) => segment !== '.' && (segment !== '' || i === all.length - 1)).join('/')

/**
 * Walks one KV v2 subtree breadth-first: each folder is listed at most once (cycle detection), the queue
 * drops its processed prefix once `index > threshold && index > queue.length / 2`, secrets are read
 * concurrently under the shared limiter. More than `maxSecrets` secrets fails the walk; it never truncates.
 */
export async function walkVaultTree(reader: VaultReader, options: WalkOptions): Promise<WalkResult> {
  const {mount, root, limit, logger} = options
  const secrets = new Map<string, JsonObject>()
  const warnings: string[] = []
  const stats: WalkStats = {lists: 0, reads: 0, folders: 0, secrets: 0, skippedDeleted: 0, compactions: 0, maxProcessedRetained: 0, maxQueueLength: 1}
  let queue: QueueEntry[] = [{folder: root, depth: 0}]
  let index = 0
  const visited = new Set<string>([normalise(root)])
  let discovered = 0
  // In-flight work is counted, not kept: racing thousands of queued reads on every turn made the walk quadratic.
  let inFlight = 0
  let wake: (() => void) | undefined
  let failure: unknown

  const warn = (message: string): void => {
    warnings.push(message)
    logger.warn(message, {mount})
  }

  const track = (promise: Promise<void>): void => {
    inFlight++
    void promise
      .catch((error: unknown) => {
        failure ??= error
      })
      .finally(() => {
        inFlight--
        wake?.()
      })
  }

  const readSecret = async (key: string): Promise<void> => {
    // After a failure the source is lost anyway: queued reads end without a request.
    if (failure !== undefined) return
    stats.reads++
    const result = await reader.read(mount, `${root}${key}`)
    if (result.kind === 'ok') {
      secrets.set(key, result.data as JsonObject)
      stats.secrets++
      options.onProgress?.({folders: stats.folders, secrets: stats.secrets})
    } else if (result.kind === 'deleted' || result.kind === 'missing') {
      stats.skippedDeleted++
      logger.debug('skipped a secret whose latest version is deleted', {mount, path: `${root}${key}`})
    } else {
      warn(`permission denied reading ${mount}${root}${key}; skipped`)
    }
  }

  const listFolder = async ({folder, depth}: QueueEntry): Promise<void> => {
    if (failure !== undefined) return
    stats.lists++
    const result = await reader.list(mount, folder)
    if (result.kind !== 'ok') {
      // An empty subtree is a 404 too; only a folder below the root deserves a warning.
      if (result.kind === 'forbidden' || folder !== root) warn(`${result.kind === 'forbidden' ? 'permission denied (403)' : 'not found (404)'} listing ${mount}${folder}; folder skipped`)
      return
    }
    stats.folders++
    for (const key of result.keys) {
      if (isUnsafeKey(key.endsWith('/') ? key.slice(0, -1) : key)) {
        warn(`refused unsafe key ${JSON.stringify(key)} in ${mount}${folder} (contains "..", NUL, "//" or a leading "/"); not read`)
        continue
      }
      const path = `${folder}${key}`
      if (key.endsWith('/')) {
        const normalised = normalise(path)
        if (visited.has(normalised)) {
          logger.debug('folder already listed; cycle skipped', {mount, path})
          continue
        }
        if (depth + 1 > options.maxDepth) {
          warn(`${mount}${path} is deeper than max_depth ${options.maxDepth}; not walked`)
          continue
        }
        visited.add(normalised)
        queue.push({folder: normalised, depth: depth + 1})
        stats.maxQueueLength = Math.max(stats.maxQueueLength, queue.length)
      } else {
        discovered++
        if (discovered > options.maxSecrets) {
          throw new SourceLimitError(`more than max_secrets (${options.maxSecrets}) secrets under ${mount}${root}; raise max_secrets or narrow the mount (nothing is synced from a truncated source)`)
        }
        const relative = path.slice(root.length)
        track(limit(() => readSecret(relative)))
      }
    }
  }

  for (;;) {
    while (failure === undefined && index < queue.length && limit.activeCount + limit.pendingCount < limit.concurrency) {
      const entry = queue[index++] as QueueEntry
      stats.maxProcessedRetained = Math.max(stats.maxProcessedRetained, index)
      if (index > options.compactionThreshold && index > queue.length / 2) {
        const before = queue.length
        queue = queue.slice(index)
        index = 0
        stats.compactions++
        logger.debug('walk queue compacted', {mount, before, after: queue.length})
      }
      track(limit(() => listFolder(entry)))
    }
    if (inFlight === 0) break
    // Set before yielding, so no completion can slip between the check and the wait.
    await new Promise<void>((resolve) => (wake = resolve))
    wake = undefined
  }
  if (failure !== undefined) throw failure
  return {secrets, warnings, stats}
}
