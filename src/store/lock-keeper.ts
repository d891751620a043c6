import type {RunLock} from './run-lock.js'

/** What keeping a lock needs from the store. */
export interface LockRenewal {
  renew(lock: RunLock): Promise<RunLock | undefined>
  release(lock: RunLock): Promise<boolean>
}

export interface KeepLockOptions {
  ttlMs: number
  /** Called once when the lock is lost (renewal refused or failed), with why. */
  onLost?: (reason: string) => void
}

/** A lock that renews itself while held. `signal` aborts when it is lost: from then on nothing may be written. */
export interface HeldLock {
  readonly signal: AbortSignal
  /** Why the lock was lost; undefined while it is held. */
  readonly lostReason: string | undefined
  /** Stops renewing and deletes the lock if it is still ours. Never throws. */
  release(): Promise<boolean>
}

/**
 * Renews `lock` every third of its TTL, so two renewals in a row can fail to land before it expires on a slow
 * store and a run longer than the TTL keeps it. Each renewal is If-Match on the ETag of the last one: if someone
 * removed or took over the lock, the first refused renewal marks it lost instead of overwriting theirs.
 */
export function keepRunLock(store: LockRenewal, lock: RunLock, options: KeepLockOptions): HeldLock {
  const lost = new AbortController()
  let current = lock
  let lostReason: string | undefined
  let renewing: Promise<void> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined
  let released = false

  const markLost = (reason: string): void => {
    if (lostReason !== undefined) return
    lostReason = reason
    lost.abort(new Error(reason))
    options.onLost?.(reason)
  }
  const schedule = (): void => {
    timer = setTimeout(tick, Math.max(1, Math.floor(options.ttlMs / 3)))
    // The lock must not keep a finished process alive; the run's own work keeps the event loop busy meanwhile.
    timer.unref()
  }
  const tick = (): void => {
    renewing = store.renew(current).then(
      (renewed) => {
        // A renewal that lands while we release still moves the ETag: release with the new one.
        if (renewed) current = renewed
        if (released) return
        if (renewed) schedule()
        else markLost(`the run lock ${current.key} was removed or taken over by another run`)
      },
      (error: unknown) => {
        if (!released) markLost(`renewing the run lock ${current.key} failed: ${(error as Error).message}`)
      },
    )
  }
  schedule()

  return {
    signal: lost.signal,
    get lostReason() {
      return lostReason
    },
    async release() {
      released = true
      clearTimeout(timer)
      await renewing
      if (lostReason !== undefined) return false
      return store.release(current).catch(() => false)
    },
  }
}
