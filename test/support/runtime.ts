import {PassThrough} from 'node:stream'
import {createLogger} from '../../src/observability/logger.js'
import {Redactor} from '../../src/observability/redact.js'
import type {Runtime} from '../../src/runtime.js'

/** A runtime whose log lines are kept in memory, so tests can read what was logged. */
export function recordingRuntime(
  level: 'debug' | 'info' = 'debug',
  stop: AbortSignal = new AbortController().signal,
): Runtime & {logs: () => string} {
  const stream = new PassThrough()
  const chunks: string[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')))
  const redactor = new Redactor()
  const logger = createLogger({level, format: 'json', redactor, runId: 'test', stream})
  return {runId: 'test', logger, redactor, now: Date.now, stop, logs: () => chunks.join('')}
}
