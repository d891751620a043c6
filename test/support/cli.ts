import {execFile} from 'node:child_process'
import {mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

export const ROOT = resolve(import.meta.dirname, '../..')
const BIN = join(ROOT, 'bin', 'run.js')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the built CLI as a user would: a subprocess with its own environment. */
export function runCli(args: string[], options: {env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number} = {}): Promise<CliResult> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries({...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.env})) {
    if (value !== undefined) env[key] = value
  }
  // The caller's SECRETSYNC_* variables must not leak into a test run unless passed explicitly.
  for (const key of Object.keys(env)) if (key.startsWith('SECRETSYNC_') && !(options.env && key in options.env)) delete env[key]
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [BIN, ...args], {env, cwd: options.cwd ?? ROOT, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024}, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      resolvePromise({code, stdout, stderr})
    })
  })
}

/** Writes a config file into a fresh temporary directory and returns its path. */
export async function writeTempConfig(text: string, name = 'secretsync.yaml'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'secretsync-test-'))
  const file = join(dir, name)
  await writeFile(file, text)
  return file
}
