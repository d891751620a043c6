import {BaseCommand, EXIT_CODES_HELP} from '../../src/cli/base-command.js'
import {secretPathFlag, showValuesFlag, snapshotVersionFlag, targetFlag} from '../../src/cli/flags.js'
import {NotAvailableError} from '../../src/errors.js'

export default class VersionShow extends BaseCommand {
  static override summary = 'Show one snapshot of a target (values masked unless --show-values).'
  static override description = `Prints snapshot N of a target from the merge store, or one secret of it with --path.\n\n${EXIT_CODES_HELP}`
  static override enableJsonFlag = true
  static override examples = [
    '<%= config.bin %> version show --target production-us-east-1 --version 3',
    '<%= config.bin %> version show --target production-us-east-1 --version 3 --path app/db --show-values',
  ]

  static override flags = {
    target: {...targetFlag, required: true},
    version: {...snapshotVersionFlag, required: true},
    path: {...secretPathFlag, description: 'Relative path of one secret in the snapshot.'},
    'show-values': showValuesFlag,
  }

  async run(): Promise<void> {
    await this.parse(VersionShow)
    throw new NotAvailableError('secretsync version show')
  }
}
