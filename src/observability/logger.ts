import winston from 'winston'
import {escapeJsonText, escapeUntrusted, guardLine} from '../util/untrusted-text.js'
import type {Redactor} from './redact.js'

export type LogLevel = 'error' | 'warn' | 'info' | 'debug'
const LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug']
export type LogFormat = 'json' | 'text'

export interface LoggerOptions {
  level: LogLevel
  format: LogFormat
  redactor: Redactor
  runId?: string
  /** Where log lines go; stderr unless a test captures them. */
  stream?: NodeJS.WritableStream
}

export type Logger = winston.Logger

// Where winston keeps the finished line (triple-beam's MESSAGE).
const MESSAGE = Symbol.for('message')

/** The one logger: winston, JSON or text, always to stderr (stdout is for data), always redacted. */
export function createLogger(options: LoggerOptions): Logger {
  const redaction = winston.format((info) => {
    const {message, ...rest} = info
    const clean = options.redactor.redact(rest) as typeof rest
    return Object.assign(info, clean, {
      message: typeof message === 'string' ? options.redactor.redactText(message) : message,
    })
  })
  // Messages and fields carry Vault keys, target names and AWS error texts: each is escaped (no raw control
  // character, no workflow command), then the whole line is guarded.
  const text = winston.format.printf(({level, message, timestamp, run_id: _runId, ...meta}) => {
    const extra = Object.entries(meta)
      .filter(([key]) => typeof key === 'string')
      .map(
        ([key, value]) =>
          `${escapeUntrusted(key)}=${escapeUntrusted(typeof value === 'string' ? value : String(JSON.stringify(value)))}`,
      )
    return guardLine(
      `${timestamp as string} ${level.padEnd(5)} ${escapeUntrusted(String(message))}${extra.length > 0 ? ` ${extra.join(' ')}` : ''}`,
    )
  })
  // JSON lines keep exact data; what JSON leaves raw (C1, bidi, `##[`) becomes \u escapes, as on stdout.
  const json = winston.format((info) => {
    const line = (info as Record<symbol, unknown>)[MESSAGE]
    if (typeof line === 'string') (info as Record<symbol, unknown>)[MESSAGE] = escapeJsonText(line)
    return info
  })
  const logger = winston.createLogger({
    level: options.level,
    defaultMeta: options.runId ? {run_id: options.runId} : undefined,
    format: winston.format.combine(
      redaction(),
      winston.format.timestamp(),
      ...(options.format === 'json' ? [winston.format.json(), json()] : [text]),
    ),
    transports: [
      options.stream
        ? new winston.transports.Stream({stream: options.stream})
        : new winston.transports.Console({stderrLevels: ['error', 'warn', 'info', 'debug', 'verbose', 'silly']}),
    ],
  })
  // winston reads a message holding `%s`, `%d`, `%%`… as a format string and then drops the fields: a Vault key
  // with `%s` in its name would hide the mount of its own warning. Each entry goes to winston whole instead.
  for (const level of LEVELS) {
    // A line the level drops is dropped here, before winston's formats run: redaction scans every registered secret.
    const entry = (message: unknown, meta?: unknown): Logger =>
      logger.isLevelEnabled(level)
        ? logger.log({...(meta !== null && typeof meta === 'object' ? meta : {}), level, message: String(message)})
        : logger
    logger[level] = entry as winston.LeveledLogMethod
  }
  return logger
}
