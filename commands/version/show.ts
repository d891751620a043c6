import {BaseCommand, EXIT_CODES_HELP} from '../../src/cli/base-command.js'
import {Flags} from '@oclif/core'
import {secretPathFlag, showValuesFlag} from '../../src/cli/flags.js'
import {renderVersionShow} from '../../src/report/history.js'
import {openHistory, showHistory, type VersionShowResult} from '../../src/versions/history.js'

export default class VersionShow extends BaseCommand {
  static override summary = 'Show one snapshot of a target (values masked unless --show-values).'
  static override description = `Prints snapshot N of a target from the merge store, or one secret of it with --path.\n\n${EXIT_CODES_HELP}`
  static override enableJsonFlag = true
  static override examples = [
    '<%= config.bin %> version show --target production-us-east-1 --version 3',
    '<%= config.bin %> version show --target production-us-east-1 --version 3 --path app/db --show-values',
  ]

  static override flags = {
    target: Flags.string({description: 'Target name.', env: 'SECRETSYNC_TARGET', required: true}),
    version: Flags.integer({
      description: 'Snapshot version number.',
      env: 'SECRETSYNC_VERSION',
      min: 1,
      required: true,
    }),
    path: {...secretPathFlag, description: 'Relative path of one secret in the snapshot.'},
    'show-values': showValuesFlag,
  }

  async run(): Promise<VersionShowResult> {
    const {flags} = await this.parse(VersionShow)
    const context = await openHistory({configPath: flags.config, surroundings: this.surroundings(flags)})
    const result = await showHistory(context, {
      target: flags.target,
      version: flags.version,
      path: flags.path,
      showValues: flags['show-values'] ?? false,
    })
    if (!this.jsonEnabled()) process.stdout.write(renderVersionShow(result))
    return result
  }
}
