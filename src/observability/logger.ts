import winston from 'winston'
import type {Redactor} from './redact.js'

export type LogLevel = 'error' | 'warn' | 'info' | 'debug'
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

/** The one logger: winston, JSON or text, always to stderr (stdout is for data), always redacted. */
export function createLogger(options: LoggerOptions): Logger {
  const redaction = winston.format((info) => {
    const {message, ...rest} = info
    const clean = options.redactor.redact(rest) as typeof rest
    return Object.assign(info, clean, {message: typeof message === 'string' ? options.redactor.redactText(message) : message})
  })
  const text = winston.format.printf(({level, message, timestamp, run_id: _runId, ...meta}) => {
    const extra = Object.entries(meta)
      .filter(([key]) => typeof key === 'string')
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    return `${timestamp as string} ${level.padEnd(5)} ${String(message)}${extra.length > 0 ? ` ${extra.join(' ')}` : ''}`
  })
  return winston.createLogger({
    level: options.level,
    defaultMeta: options.runId ? {run_id: options.runId} : undefined,
    format: winston.format.combine(
      redaction(),
      winston.format.timestamp(),
      options.format === 'json' ? winston.format.json() : text,
    ),
    transports: [
      options.stream
        ? new winston.transports.Stream({stream: options.stream})
        : new winston.transports.Console({stderrLevels: ['error', 'warn', 'info', 'debug', 'verbose', 'silly']}),
    ],
  })
}
