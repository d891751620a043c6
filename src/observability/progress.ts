import type {Logger} from './logger.js'

export interface ProgressState {
  secretsWalked: number
  targetsDone: number
  /** Unknown until the targets are planned. */
  targetsTotal?: number
}

export interface ProgressOptions {
  /** Where the TTY status line goes: the run's stderr, from the composition root (stdout is for data). */
  stream: {isTTY?: boolean; write(chunk: string): unknown}
  /** Off a TTY, progress goes out as log lines. */
  logger: Pick<Logger, 'info'>
  /** Off a TTY: at most one progress line per interval. Default 10 s. */
  intervalMs?: number
  /** On a TTY: at most one redraw per interval, so a fast walk does not flood the terminal. Default 100 ms. */
  redrawMs?: number
  now?: () => number
}

/** Progress of a long phase. `update` takes absolute values (the latest totals), not increments. */
export interface Progress {
  update(change: Partial<ProgressState>): void
  stop(): void
}

const count = (n: number): string => n.toLocaleString('en-US')

/** `walked 1,234 secrets · targets 3/12` (the target part once the total is known). */
export function formatProgress(state: ProgressState): string {
  const walked = `walked ${count(state.secretsWalked)} ${state.secretsWalked === 1 ? 'secret' : 'secrets'}`
  return state.targetsTotal === undefined
    ? walked
    : `${walked} · targets ${count(state.targetsDone)}/${count(state.targetsTotal)}`
}

// Carriage return, then erase the line: the status line is rewritten in place.
const REWRITE = '\r\x1b[2K'

/** One status line rewritten in place on a TTY; off a TTY, a `progress` log line at most every interval. */
export function createProgress(options: ProgressOptions): Progress {
  const {stream} = options
  const now = options.now ?? Date.now
  const tty = stream.isTTY === true
  const interval = tty ? (options.redrawMs ?? 100) : (options.intervalMs ?? 10_000)
  const state: ProgressState = {secretsWalked: 0, targetsDone: 0}
  // Off a TTY the first line waits a full interval: a short phase needs no progress lines at all.
  let last = tty ? -Infinity : now()
  let drawn = false
  let stopped = false

  const emit = (): void => {
    if (tty) {
      stream.write(`${REWRITE}${formatProgress(state)}`)
      drawn = true
    } else {
      options.logger.info('progress', {
        secrets_walked: state.secretsWalked,
        targets_done: state.targetsDone,
        ...(state.targetsTotal === undefined ? {} : {targets_total: state.targetsTotal}),
      })
    }
  }

  return {
    update(change) {
      if (stopped) return
      Object.assign(state, Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined)))
      const at = now()
      if (at - last < interval) return
      last = at
      emit()
    },
    stop() {
      if (stopped) return
      stopped = true
      // Leave the final counts on screen and move to a fresh line for whatever prints next.
      if (tty && drawn) stream.write(`${REWRITE}${formatProgress(state)}\n`)
    },
  }
}
