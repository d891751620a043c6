import {BaseCommand, EXIT_CODES_HELP} from '../../src/cli/base-command.js'
import {Flags} from '@oclif/core'
import {dryRunFlag, outputFlag, secretPathFlag, showValuesFlag, targetFlag} from '../../src/cli/flags.js'
import {renderPipelineOutput} from '../../src/report/render-pipeline.js'
import {openHistory} from '../../src/versions/history.js'
import {rollback} from '../../src/versions/rollback.js'
import {stringifyJsonSafely} from '../../src/util/untrusted-text.js'

export default class VersionRollback extends BaseCommand {
  static override summary = 'Roll a target (or one secret) back to snapshot N and sync it.'
  static override description = `Writes a new snapshot whose content equals the chosen one (for the whole target, or for one secret with --path) and syncs it. History is never rewritten.\n\n${EXIT_CODES_HELP}`
  static override enableJsonFlag = true
  static override examples = [
    '<%= config.bin %> version rollback --target production-us-east-1 --version 3 --dry-run',
    '<%= config.bin %> version rollback --path production-us-east-1/app/db --version 3',
  ]

  static override flags = {
    target: {...targetFlag, exactlyOne: ['target', 'path']},
    path: {...secretPathFlag, exactlyOne: ['target', 'path']},
    version: Flags.integer({
      description: 'Snapshot version number to roll back to.',
      env: 'SECRETSYNC_VERSION',
      min: 1,
      required: true,
    }),
    'dry-run': dryRunFlag,
    output: outputFlag,
    'show-values': showValuesFlag,
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(VersionRollback)
    const surroundings = this.surroundings(flags)
    const context = await openHistory({configPath: flags.config, surroundings})
    const showValues = flags['show-values'] ?? false
    const outcome = await rollback(context, {
      target: flags.target,
      path: flags.path,
      version: flags.version,
      dryRun: flags['dry-run'] ?? false,
      showValues,
    })
    this.setExitCode(outcome.exitCode)
    const format = this.jsonEnabled() ? 'json' : flags.output
    const rendered = await renderPipelineOutput(
      {kind: 'sync', result: outcome.sync, exitCode: outcome.exitCode},
      {format, showValues, diff: true, env: surroundings.env, isTTY: surroundings.stdoutIsTTY},
    )
    const json = {snapshot: outcome.snapshot, ...(rendered.json as object)}
    if (this.jsonEnabled()) return json
    const {version, status, from_version: from} = outcome.snapshot
    const note =
      status === 'unchanged'
        ? `content of v${from} equals the latest snapshot v${version}`
        : `${status === 'planned' ? 'would write' : 'wrote'} v${version} with the content of v${from}`
    process.stdout.write(format === 'json' ? `${stringifyJsonSafely(json)}\n` : `rollback: ${note}\n${rendered.stdout}`)
    return undefined
  }
}
