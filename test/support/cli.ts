import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {hostEnv, inProcessRunActive, runCliInProcess} from './cli-in-process.js'

export const ROOT = resolve(import.meta.dirname, '../..')
const BIN = join(ROOT, 'bin', 'run.js')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export interface CliOptions {
  env?: Record<string, string | undefined>
  cwd?: string
  timeoutMs?: number
  /**
   * Run `bin/run.js` as a real child process instead of in the test worker. Needed by the stories about the
   * process itself: exit codes as the shell sees them, signals, what reaches the real stdout and stderr.
   */
  subprocess?: boolean
}

/** The environment a run gets: the worker's, the SDK warning off, the caller's; no stray SECRETSYNC_* or NODE_ENV. */
function cliEnv(options: CliOptions): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries({
    ...hostEnv(),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...options.env,
  })) {
    if (value !== undefined) env[key] = value
  }
  const passed = (key: string) => options.env !== undefined && key in options.env
  // The caller's SECRETSYNC_* variables must not leak into a test run unless passed explicitly.
  for (const key of Object.keys(env)) if (key.startsWith('SECRETSYNC_') && !passed(key)) delete env[key]
  // vitest sets NODE_ENV=test in its workers. oclif reads that as development and tries to register tsx or ts-node
  // to load the TypeScript sources instead of dist/ (more than doubling a start); a user's run never does that.
  if (!passed('NODE_ENV')) delete env.NODE_ENV
  return env
}

/**
 * Runs the CLI as a user would, with its own environment, and returns its exit code and output. In the test
 * worker by default (see cli-in-process.ts); in a real subprocess of the built CLI with `subprocess: true`, when
 * SECRETSYNC_TEST_CLI=subprocess is set (to check that every story holds both ways), or when another
 * in-process run is still going (concurrent runs each need a process of their own).
 */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const subprocess = options.subprocess || hostEnv().SECRETSYNC_TEST_CLI === 'subprocess' || inProcessRunActive()
  return subprocess
    ? runCliProcess(args, options)
    : runCliInProcess(args, {
        root: ROOT,
        env: cliEnv(options),
        cwd: options.cwd ?? ROOT,
        timeoutMs: options.timeoutMs ?? 120_000,
      })
}

/** Runs the built CLI in a real child process: `node bin/run.js …`. */
export function runCliProcess(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const env = cliEnv(options)
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {env, cwd: options.cwd ?? ROOT, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024},
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolvePromise({code, stdout, stderr})
      },
    )
  })
}

export interface StartedCli {
  child: ChildProcess
  /** Resolves when the process ends: its exit code, or the signal that ended it (code null). */
  done: Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>
  /** What the process wrote to stderr so far. */
  stderr(): string
}

/**
 * Starts the built CLI without waiting for it, so a test can signal it mid-run. With `prefix` (e.g. `unshare …`)
 * the CLI runs under that command, as a container runtime would start it.
 */
export function startCli(
  args: string[],
  options: {env?: Record<string, string | undefined>; cwd?: string; prefix?: string[]} = {},
): StartedCli {
  const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath]
  const child = spawn(command as string, [...prefixArgs, BIN, ...args], {
    env: cliEnv(options),
    cwd: options.cwd ?? ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  const done = new Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>(
    (resolvePromise) => {
      child.on('close', (code, signal) => resolvePromise({code, signal, stdout, stderr}))
    },
  )
  return {child, done, stderr: () => stderr}
}

/** Writes a config file into a fresh temporary directory and returns its path. */
export async function writeTempConfig(text: string, name = 'secretsync.yaml'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'secretsync-test-'))
  const file = join(dir, name)
  await writeFile(file, text)
  return file
}
