import {loadProject, type ProjectResult} from './config/index.js'
import type {Config} from './config/schema.js'
import {insecureHttpWarning} from './config/transport-security.js'
import type {LogFormat, LogLevel} from './observability/logger.js'
import {buildAdapters, type Adapters} from './pipeline/compose.js'
import {createRuntime, type Runtime} from './runtime.js'

/**
 * What a run takes from the process it runs in. Only the hosts, the CLI layer (src/cli/base-command.ts) and the
 * GitHub Action (src/action/main.ts), read `process.env`, `process.stderr`, the clock and the signals; everything
 * below gets them from here, so a test (or another host) can hand in its own.
 */
export interface Surroundings {
  env: Readonly<Record<string, string | undefined>>
  /** Logs and the progress line. */
  stderr: NodeJS.WritableStream
  /** Colours in the reports; the reports themselves go to stdout from the commands. */
  stdoutIsTTY: boolean
  now: () => number
  /** Aborts when the run is asked to stop (SIGTERM/SIGINT). */
  stop: AbortSignal
  /** From the flag or its SECRETSYNC_* variable; wins over the file. */
  logLevel?: LogLevel
  logFormat?: LogFormat
}

export interface Composed {
  runtime: Runtime
  adapters: Adapters
  /** Ends what the adapters keep running (breaker timers); call once when the command is done. */
  close(): void
}

/** The composition root: the one place that turns a loaded config and the surroundings into runtime and adapters. */
export function compose(config: Config, surroundings: Surroundings): Composed {
  const runtime = createRuntime({
    config,
    logLevel: surroundings.logLevel,
    logFormat: surroundings.logFormat,
    stream: surroundings.stderr,
    now: surroundings.now,
    stop: surroundings.stop,
  })
  const insecure = insecureHttpWarning(config, surroundings.env)
  if (insecure) runtime.logger.warn(insecure.message, {endpoints: insecure.endpoints})
  const adapters = buildAdapters(config, runtime, surroundings.env)
  return {runtime, adapters, close: () => adapters.breakers.shutdown()}
}

/** Loads the config (interpolated from the given environment) and its static graph, then composes the run. */
export async function openProject(configPath: string, surroundings: Surroundings): Promise<ProjectResult & Composed> {
  const loaded = await loadProject(configPath, {env: surroundings.env})
  return {...loaded, ...compose(loaded.config, surroundings)}
}
