import type pLimit from 'p-limit'
import {ExitCode, SecretSyncError} from '../errors.js'
import type {Logger} from '../observability/logger.js'
import type {JsonObject} from '../util/canonical-json.js'
import type {VaultReader} from './vault-client.js'
import {CompactingQueue} from './walk-queue.js'

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
  /** Most requests this walk has handed to the limiter at once (default: the limiter's concurrency). */
  window?: number
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
  /** Largest number of already-processed entries the folder queue array held: what compaction bounds. */
  maxProcessedRetained: number
  /** Largest physical length of the folder queue array. */
  maxQueueLength: number
}

/** Why a folder or key the walk found was not read. Only `deleted` leaves the source complete. */
export type SkipReason = 'deleted' | 'forbidden' | 'not_found' | 'max_depth' | 'unsafe_key'

export interface SkippedItem {
  kind: 'folder' | 'secret'
  /** Full Vault path (mount included); a folder ends in `/`. Never a value. */
  path: string
  reason: SkipReason
}

/** What the walk did with every folder and key it found; `found = done + skipped + failed` for each. */
export interface WalkBooks {
  folders: {found: number; listed: number; skipped: number; failed: number}
  secrets: {found: number; read: number; skipped: number; failed: number}
}

export interface WalkResult {
  /** Relative path below the source root → the secret's data. */
  secrets: Map<string, JsonObject>
  warnings: string[]
  stats: WalkStats
  skipped: SkippedItem[]
  /** Nothing was skipped for a reason other than `deleted` (DESIGN §4 Completeness). */
  complete: boolean
  books: WalkBooks
}

/** A source holds more than its `max_secrets`: the source fails whole (nothing is synced from a truncated walk). */
export class SourceLimitError extends SecretSyncError {
  constructor(message: string) {
    super('SOURCE_LIMIT', message, ExitCode.failure, {hint: "Raise the source's max_secrets or narrow its mount."})
  }
}

/** The walk's own accounting does not add up: a bug, never a partial result passed on as complete. */
export class WalkAccountingError extends SecretSyncError {
  constructor(message: string) {
    super('WALK_ACCOUNTING', message, undefined, {
      hint: 'This is a secretsync bug; please report it with the log. Nothing was synced from this source.',
    })
  }
}

interface FolderEntry {
  folder: string
  depth: number
}

// A key is refused when it could escape or alias its folder: `..` segments, NUL, `//`, or a leading `/`.
export const isUnsafeKey = (key: string): boolean =>
  /(^|\/)\.\.(\/|$)/.test(key) || key.includes('\0') || key.includes('//') || key.startsWith('/')

// `.` segments name the folder itself; dropping them lets the visited set catch listings that point back.
const normalise = (path: string): string =>
  path
    .split('/')
    .filter((segment, i, all) => segment !== '.' && (segment !== '' || i === all.length - 1))
    .join('/')

/**
 * Walks one KV v2 subtree breadth-first: each folder is listed at most once (cycle detection), the folder
 * queue drops its processed prefix once `index > threshold && index > queue.length / 2`, and secrets are read
 * concurrently under the shared limiter. The walk owns its work (STYLE rule 11): it never asks the shared
 * limiter how busy it is, keeps at most `window` requests of its own outstanding, and ends only when its
 * queues are drained and nothing of it is in flight. Every folder and key found ends read, skipped with a
 * reason, or failed, and the books are checked at the end. More than `maxSecrets` fails the walk; it never
 * truncates.
 */
export async function walkVaultTree(reader: VaultReader, options: WalkOptions): Promise<WalkResult> {
  const {mount, root, limit, logger} = options
  const window = Math.max(1, options.window ?? limit.concurrency)
  const secrets = new Map<string, JsonObject>()
  const warnings: string[] = []
  const skipped: SkippedItem[] = []
  const stats: WalkStats = {
    lists: 0,
    reads: 0,
    folders: 0,
    secrets: 0,
    skippedDeleted: 0,
    compactions: 0,
    maxProcessedRetained: 0,
    maxQueueLength: 1,
  }
  const books: WalkBooks = {
    folders: {found: 1, listed: 0, skipped: 0, failed: 0},
    secrets: {found: 0, read: 0, skipped: 0, failed: 0},
  }
  const folders = new CompactingQueue<FolderEntry>(options.compactionThreshold, (before, after) =>
    logger.debug('walk queue compacted', {mount, before, after}),
  )
  const reads = new CompactingQueue<string>(options.compactionThreshold)
  folders.push({folder: root, depth: 0})
  const visited = new Set<string>([normalise(root)])
  // In-flight work is counted, not kept: racing thousands of pending promises on every turn made the walk quadratic.
  let inFlight = 0
  let failure: unknown

  const warn = (message: string): void => {
    warnings.push(message)
    logger.warn(message, {mount})
  }

  const skip = (item: SkippedItem): void => {
    skipped.push(item)
    books[item.kind === 'folder' ? 'folders' : 'secrets'].skipped++
  }

  const readSecret = async (key: string): Promise<void> => {
    stats.reads++
    const result = await reader.read(mount, `${root}${key}`)
    if (result.kind === 'ok') {
      secrets.set(key, result.data as JsonObject)
      stats.secrets++
      books.secrets.read++
      options.onProgress?.({folders: stats.folders, secrets: stats.secrets})
      return
    }
    const path = `${mount}${root}${key}`
    if (result.kind === 'deleted') {
      stats.skippedDeleted++
      skip({kind: 'secret', path, reason: 'deleted'})
      logger.debug('skipped a secret whose latest version is deleted', {mount, path: `${root}${key}`})
    } else if (result.kind === 'missing') {
      skip({kind: 'secret', path, reason: 'not_found'})
      warn(`not found (404) reading ${path}; skipped`)
    } else {
      skip({kind: 'secret', path, reason: 'forbidden'})
      warn(`permission denied reading ${path}; skipped`)
    }
  }

  const listFolder = async ({folder, depth}: FolderEntry): Promise<void> => {
    stats.lists++
    const result = await reader.list(mount, folder)
    if (result.kind !== 'ok') {
      // An empty subtree answers 404 too: the root of an empty source is listed, empty, not skipped.
      if (result.kind === 'missing' && folder === root) {
        books.folders.listed++
        return
      }
      skip({kind: 'folder', path: `${mount}${folder}`, reason: result.kind === 'forbidden' ? 'forbidden' : 'not_found'})
      warn(
        `${result.kind === 'forbidden' ? 'permission denied (403)' : 'not found (404)'} listing ${mount}${folder}; folder skipped`,
      )
      return
    }
    stats.folders++
    books.folders.listed++
    for (const key of result.keys) {
      const isFolder = key.endsWith('/')
      const path = `${folder}${key}`
      if (isUnsafeKey(isFolder ? key.slice(0, -1) : key)) {
        books[isFolder ? 'folders' : 'secrets'].found++
        skip({kind: isFolder ? 'folder' : 'secret', path: `${mount}${path}`, reason: 'unsafe_key'})
        warn(
          `refused unsafe key ${JSON.stringify(key)} in ${mount}${folder} (contains "..", NUL, "//" or a leading "/"); not read`,
        )
        continue
      }
      if (isFolder) {
        const normalised = normalise(path)
        if (visited.has(normalised)) {
          logger.debug('folder already listed; cycle skipped', {mount, path})
          continue
        }
        visited.add(normalised)
        books.folders.found++
        if (depth + 1 > options.maxDepth) {
          skip({kind: 'folder', path: `${mount}${normalised}`, reason: 'max_depth'})
          warn(`${mount}${path} is deeper than max_depth ${options.maxDepth}; not walked`)
          continue
        }
        folders.push({folder: normalised, depth: depth + 1})
      } else {
        books.secrets.found++
        if (books.secrets.found > options.maxSecrets) {
          throw new SourceLimitError(
            `more than max_secrets (${options.maxSecrets}) secrets under ${mount}${root}; raise max_secrets or narrow the mount (nothing is synced from a truncated source)`,
          )
        }
        reads.push(path.slice(root.length))
      }
    }
  }

  // The walk is driven from its completions: each finished request starts the next tasks at once (no loop woken
  // through a fresh promise per completion), and a task is its function and argument (p-limit passes the
  // argument on), so a request allocates no closure or task object of its own. `fill` is the only place work starts.
  await new Promise<void>((resolve) => {
    const fill = (): void => {
      // Called from completions: a throw here would be an unhandled rejection and the walk would never end.
      try {
        startMore()
      } catch (error) {
        failure ??= error
      }
      if (inFlight === 0) resolve()
    }
    const startMore = (): void => {
      while (failure === undefined && inFlight < window) {
        // Reads go first: they are leaves, so the queues of found-but-unread work stay short.
        const key = reads.shift()
        if (key !== undefined) {
          inFlight++
          void limit(readSecret, key).then(settled, readFailed)
          continue
        }
        const entry = folders.shift()
        if (entry === undefined) break
        inFlight++
        void limit(listFolder, entry).then(settled, listFailed)
      }
    }
    const settled = (): void => {
      inFlight--
      fill()
    }
    const failed =
      (kind: 'folders' | 'secrets') =>
      (error: unknown): void => {
        books[kind].failed++
        failure ??= error
        settled()
      }
    const listFailed = failed('folders')
    const readFailed = failed('secrets')
    fill()
  })
  // After a failure the source is lost anyway: what is still queued is never requested.
  if (failure !== undefined) throw failure
  stats.compactions = folders.compactions
  stats.maxProcessedRetained = folders.maxProcessedRetained
  stats.maxQueueLength = Math.max(1, folders.maxLength)
  checkBooks(books, folders.size + reads.size, `${mount}${root}`)
  return {secrets, warnings, stats, skipped, complete: skipped.every((item) => item.reason === 'deleted'), books}
}

/** Throws a WalkAccountingError unless every folder and key found ended done, skipped or failed, with nothing queued. */
export function checkBooks(books: WalkBooks, queued: number, where: string): void {
  const {folders, secrets} = books
  const problems = [
    queued !== 0 && `${queued} still queued`,
    folders.found !== folders.listed + folders.skipped + folders.failed &&
      `folders found ${folders.found} != listed ${folders.listed} + skipped ${folders.skipped} + failed ${folders.failed}`,
    secrets.found !== secrets.read + secrets.skipped + secrets.failed &&
      `keys found ${secrets.found} != read ${secrets.read} + skipped ${secrets.skipped} + failed ${secrets.failed}`,
  ].filter((problem): problem is string => typeof problem === 'string')
  if (problems.length > 0)
    throw new WalkAccountingError(
      `internal error: the walk of ${where} does not account for everything it found (${problems.join('; ')}); nothing is synced from it`,
    )
}
