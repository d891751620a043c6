import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import type {Command, Config} from '@oclif/core'
import type {CliResult} from './cli.js'

/**
 * Runs the CLI inside the test worker, as `bin/run.js` would in a process of its own: oclif's `run` with one
 * `Config` loaded once per worker, oclif's own error handler for what escapes a command, and the exit code the
 * process would end with. A CLI process costs most of a second to
 * start; the same story in-process costs a few milliseconds once the first one has loaded the modules.
 *
 * What a process would have to itself is swapped in for the call and restored after it: `process.env`, the
 * working directory, `process.exitCode`, stdout and stderr (captured, and not a terminal, as in a pipe). The
 * product reads its environment at call time (nothing caches `process.env` at module load), so each run sees
 * exactly the environment it was given. Only one run can own those globals at a time: `runCli` sends a run that
 * starts while another is still going to a real subprocess (see `inProcessRunActive`).
 */

const STREAM_KEYS = ['isTTY', 'columns', 'rows'] as const

let active: {env: NodeJS.ProcessEnv} | undefined
let loaded:
  | Promise<{config: Config; run: typeof import('@oclif/core').run; handle: typeof import('@oclif/core/handle')}>
  | undefined

/** True while an in-process run owns the process-wide state. */
export const inProcessRunActive = (): boolean => active !== undefined

/** The worker's own environment, also while an in-process run has swapped `process.env`. */
export const hostEnv = (): NodeJS.ProcessEnv => active?.env ?? process.env

function replaceEnv(next: Record<string, string>): void {
  for (const key of Object.keys(process.env)) if (!(key in next)) delete process.env[key]
  Object.assign(process.env, next)
}

/** Makes a stream look like a pipe (no TTY, no size), as stdout and stderr of a spawned CLI are; returns the undo. */
function asPipe(stream: NodeJS.WriteStream): () => void {
  const saved = STREAM_KEYS.map((key) => [key, Object.getOwnPropertyDescriptor(stream, key)] as const)
  for (const key of STREAM_KEYS)
    Object.defineProperty(stream, key, {value: undefined, configurable: true, writable: true})
  return () => {
    for (const [key, descriptor] of saved) {
      if (descriptor) Object.defineProperty(stream, key, descriptor)
      else delete (stream as unknown as Record<string, unknown>)[key]
    }
  }
}

/** Captures what is written to a stream (stdout, stderr, and so console and winston); returns the text and the undo. */
function capture(stream: NodeJS.WriteStream): {text: () => string; restore: () => void} {
  const chunks: string[] = []
  const write = stream.write
  stream.write = ((
    chunk: string | Uint8Array,
    encoding?: BufferEncoding | ((error?: Error | null) => void),
    callback?: (error?: Error | null) => void,
  ) => {
    chunks.push(
      typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8'),
    )
    const done = typeof encoding === 'function' ? encoding : callback
    if (done) process.nextTick(done)
    return true
  }) as typeof stream.write
  return {text: () => chunks.join(''), restore: () => void (stream.write = write)}
}

/**
 * oclif, loaded on the first run of a worker while its streams already look like pipes, with the Config of the
 * built package (its oclif.manifest.json: commands, flags, help). Each command class itself is imported from its
 * TypeScript source through vitest's module graph, as the unit tests import src/: coverage sees the real
 * files, and a story runs the code under test, not the last build of it. Real subprocesses run dist/.
 */
function load(root: string) {
  loaded ??= (async () => {
    const [{Config, run}, handle] = await Promise.all([import('@oclif/core'), import('@oclif/core/handle')])
    const config = await Config.load({root})
    for (const command of config.commands) {
      const source = pathToFileURL(`${join(root, 'commands', ...command.id.split(':'))}.ts`).href
      command.load = async () => ((await import(/* @vite-ignore */ source)) as {default: Command.Class}).default
    }
    return {config, run, handle}
  })()
  return loaded
}

/** What `bin/run.js` ends with: process.exitCode after a command, or the code oclif's handler would exit with. */
async function execute(root: string, args: string[]): Promise<number> {
  const {config, run, handle} = await load(root)
  try {
    await run(args, config)
    return typeof process.exitCode === 'number' ? process.exitCode : Number(process.exitCode ?? 0)
  } catch (error) {
    // bin/run.js hands errors to oclif's handle(), which prints them and calls Exit.exit (process.exit). Exit is
    // oclif's seam for exactly this: record the code instead of ending the worker.
    let code: number | undefined
    const exit = handle.Exit.exit
    handle.Exit.exit = ((exitCode = 0) => void (code ??= exitCode)) as typeof exit
    try {
      await handle.handle(error as Error)
    } finally {
      handle.Exit.exit = exit
    }
    return code ?? 1
  }
}

export async function runCliInProcess(
  args: string[],
  options: {root: string; env: Record<string, string>; cwd: string; timeoutMs: number},
): Promise<CliResult> {
  if (active) throw new Error('an in-process CLI run is already active in this worker')
  const host = {...process.env}
  active = {env: host}
  const savedCwd = process.cwd()
  const savedExitCode = process.exitCode
  const undo = [asPipe(process.stdout), asPipe(process.stderr)]
  const stdout = capture(process.stdout)
  const stderr = capture(process.stderr)
  let timer: NodeJS.Timeout | undefined
  try {
    replaceEnv(options.env)
    process.chdir(options.cwd)
    process.exitCode = undefined
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`in-process CLI run exceeded ${options.timeoutMs} ms: secretsync ${args.join(' ')}`)),
        options.timeoutMs,
      )
    })
    const code = await Promise.race([execute(options.root, args), timedOut])
    return {code, stdout: stdout.text(), stderr: stderr.text()}
  } finally {
    clearTimeout(timer)
    stdout.restore()
    stderr.restore()
    for (const restore of undo) restore()
    process.exitCode = savedExitCode
    process.chdir(savedCwd)
    replaceEnv(host as Record<string, string>)
    active = undefined
  }
}
