import {BaseCommand, EXIT_CODES_HELP} from '../../src/cli/base-command.js'
import {dryRunFlag, outputFlag, secretPathFlag, showValuesFlag, snapshotVersionFlag, targetFlag} from '../../src/cli/flags.js'
import {NotAvailableError} from '../../src/errors.js'

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
    version: {...snapshotVersionFlag, required: true},
    'dry-run': dryRunFlag,
    output: outputFlag,
    'show-values': showValuesFlag,
  }

  async run(): Promise<void> {
    await this.parse(VersionRollback)
    throw new NotAvailableError('secretsync version rollback')
  }
}
