import {ExitCode} from '../errors.js'

/** The CLI's answer to SIGTERM/SIGINT: a stop signal for the run, and the exit code the signal asks for. */
export interface SignalStop {
  /** Aborts on the first SIGTERM/SIGINT; its reason says which signal. */
  readonly signal: AbortSignal
  /** 143 after SIGTERM, 130 after SIGINT; undefined while no signal arrived. */
  readonly exitCode: ExitCode | undefined
  /** Removes the handlers (the command is done; a later signal has its default effect). */
  dispose(): void
}

const CODES = {SIGTERM: ExitCode.terminated, SIGINT: ExitCode.interrupted} as const
type HandledSignal = keyof typeof CODES

/**
 * Installs SIGTERM/SIGINT handlers (as PID 1 in a container, unhandled signals are ignored, so `docker stop` and
 * Kubernetes would wait the whole grace period). The first signal aborts `signal`: no new write starts, in-flight
 * calls finish, applied records are written and locks released, then the command ends with 143/130. A second
 * signal exits at once: the user insists, and there is nothing left worth waiting for.
 */
export function stopOnSignals(stderr: NodeJS.WritableStream = process.stderr): SignalStop {
  const controller = new AbortController()
  let received: HandledSignal | undefined
  const handler = (name: HandledSignal): void => {
    if (received !== undefined) {
      stderr.write(`Received ${name} again: exiting now.\n`)
      // eslint-disable-next-line no-restricted-syntax -- the one place that may: a second signal means "now", and as PID 1 re-raising it would be ignored.
      process.exit(CODES[name])
    }
    received = name
    stderr.write(
      `Received ${name}: starting no new writes, finishing in-flight calls, recording what was applied and releasing locks (send it again to exit at once).\n`,
    )
    controller.abort(new Error(`the run was interrupted (${name})`))
  }
  const onTerm = (): void => handler('SIGTERM')
  const onInt = (): void => handler('SIGINT')
  process.on('SIGTERM', onTerm)
  process.on('SIGINT', onInt)
  return {
    signal: controller.signal,
    get exitCode() {
      return received === undefined ? undefined : CODES[received]
    },
    dispose() {
      process.off('SIGTERM', onTerm)
      process.off('SIGINT', onInt)
    },
  }
}
