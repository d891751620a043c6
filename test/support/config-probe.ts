import {parseConfig} from '../../src/config/load.js'
import type {Config} from '../../src/config/schema.js'

/**
 * Loads configs whose one target `app` imports `base`: `target` is YAML lines under it (indented four spaces) and
 * `extra` the top-level YAML after it. `parse` returns the loaded config; `problem` the load error's message, and
 * fails when the config loads. `file` names the config (a function when it is only known later, in `beforeAll`).
 */
export function appTargetConfig({
  file = 'secretsync.yaml',
  sources = ['base'],
}: {file?: string | (() => string); sources?: string[]} = {}) {
  const text = (target: string, extra = ''): string =>
    `aws: {region: us-east-1}\nvault: {address: "http://127.0.0.1:8200"}\nvault_sources:\n${sources
      .map((name) => `  - {name: ${name}, mount: secret/${name}/}\n`)
      .join('')}targets:\n  - name: app\n    imports: [base]\n${target}${extra}`
  const parse = (target: string, extra = ''): Config =>
    parseConfig(text(target, extra), typeof file === 'function' ? file() : file, {env: {}}).config
  const problem = (target: string, extra = ''): string => {
    try {
      parse(target, extra)
    } catch (error) {
      return (error as Error).message
    }
    throw new Error('expected a config error')
  }
  return {parse, problem}
}
