import {execFile} from 'node:child_process'
import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse} from 'yaml'
import {ROOT} from './cli.js'

/** The committed bundle action.yml runs. */
export const ACTION_BUNDLE = join(ROOT, 'action', 'dist', 'index.js')

export interface ActionRun {
  code: number
  stdout: string
  stderr: string
  /** $GITHUB_OUTPUT as the runner reads it (last write of a name wins). */
  outputs: Record<string, string>
  /** $GITHUB_STEP_SUMMARY. */
  summary: string
}

export interface ActionRunOptions {
  /** `with:` of the step, by input name (`dry-run`, `working-directory` ...). */
  inputs?: Record<string, string>
  /** GITHUB_EVENT_NAME. */
  event: string
  /** The step's `env:` (the stack's addresses and credentials, ...). */
  env?: Record<string, string>
  /** The workspace: the runner starts a JavaScript action there. */
  cwd: string
}

/** The input defaults declared in action.yml: the runner sets `INPUT_<NAME>` to them when `with:` omits one. */
async function actionDefaults(): Promise<Record<string, string>> {
  const manifest = parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as {
    inputs: Record<string, {default?: string}>
  }
  return Object.fromEntries(
    Object.entries(manifest.inputs).flatMap(([name, input]) =>
      input.default === undefined ? [] : [[name, input.default]],
    ),
  )
}

/** Parses $GITHUB_OUTPUT: `name=value` lines and `name<<DELIMITER` heredocs. */
export function parseGithubOutput(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const end = lines.indexOf(heredoc[2] ?? '', i + 1)
      outputs[heredoc[1] ?? ''] = lines.slice(i + 1, end).join('\n')
      i = end
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
  }
  return outputs
}

/**
 * Runs the action as the runner does: `node action/dist/index.js` in the workspace, inputs as `INPUT_<NAME>`
 * (upper-cased, hyphens kept) with action.yml's defaults for the omitted ones, and fresh GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files. Only PATH and HOME come from the test process: no stray SECRETSYNC_* or NODE_ENV.
 */
export async function runAction(options: ActionRunOptions): Promise<ActionRun> {
  const files = await mkdtemp(join(tmpdir(), 'secretsync-action-'))
  const outputFile = join(files, 'output')
  const summaryFile = join(files, 'summary.md')
  await writeFile(outputFile, '')
  await writeFile(summaryFile, '')
  const inputs = {...(await actionDefaults()), ...options.inputs}
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? files,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: options.event,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_WORKSPACE: options.cwd,
    RUNNER_TEMP: files,
    ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])),
    ...options.env,
  }
  const {code, stdout, stderr} = await new Promise<{code: number; stdout: string; stderr: string}>((resolve) => {
    execFile(
      process.execPath,
      [ACTION_BUNDLE],
      {env, cwd: options.cwd, timeout: 120_000, maxBuffer: 64 * 1024 * 1024},
      (error, out, err) =>
        resolve({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: out, stderr: err}),
    )
  })
  return {
    code,
    stdout,
    stderr,
    outputs: parseGithubOutput(await readFile(outputFile, 'utf8')),
    summary: await readFile(summaryFile, 'utf8'),
  }
}
