import {BaseCommand, EXIT_CODES_HELP} from '../../src/cli/base-command.js'
import {secretPathFlag, targetFlag} from '../../src/cli/flags.js'
import {NotAvailableError} from '../../src/errors.js'

export default class VersionList extends BaseCommand {
  static override summary = 'List the snapshots of a target, or the versions where one secret changed.'
  static override description = `Reads the merge store's history.\n\n${EXIT_CODES_HELP}`
  static override enableJsonFlag = true
  static override examples = [
    '<%= config.bin %> version list --target production-us-east-1',
    '<%= config.bin %> version list --path production-us-east-1/app/db',
  ]

  static override flags = {
    target: {...targetFlag, exactlyOne: ['target', 'path']},
    path: {...secretPathFlag, exactlyOne: ['target', 'path']},
  }

  async run(): Promise<void> {
    await this.parse(VersionList)
    throw new NotAvailableError('secretsync version list')
  }
}
