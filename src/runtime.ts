import {randomBytes} from 'node:crypto'
import type {Config} from './config/schema.js'
import {createLogger, type LogFormat, type Logger, type LogLevel} from './observability/logger.js'
import {Redactor} from './observability/redact.js'

/**
 * What every phase of one run shares: its id, the clock, the one logger, the one redactor, and `stop`, which
 * aborts when the run is asked to stop (SIGTERM/SIGINT): from then on no new write starts (docs/design.md §4 Signals).
 */
export interface Runtime {
  runId: string
  logger: Logger
  redactor: Redactor
  now: () => number
  stop: AbortSignal
}

export interface RuntimeOptions {
  config?: Config
  /** From the flag or its SECRETSYNC_* variable; wins over the file. */
  logLevel?: LogLevel
  logFormat?: LogFormat
  stream?: NodeJS.WritableStream
  /** Installed by the CLI layer (signal handlers); a run that is never asked to stop by default. */
  stop?: AbortSignal
  now?: () => number
}

/** Settings that exist as flags resolve flag > env (both via oclif) > file > default. */
export function createRuntime(options: RuntimeOptions): Runtime {
  const runId = randomBytes(6).toString('hex')
  const redactor = new Redactor()
  const logger = createLogger({
    level: options.logLevel ?? options.config?.logging.level ?? 'info',
    format: options.logFormat ?? options.config?.logging.format ?? 'json',
    redactor,
    runId,
    stream: options.stream,
  })
  return {runId, logger, redactor, now: options.now ?? Date.now, stop: options.stop ?? new AbortController().signal}
}
