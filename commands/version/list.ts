import {BaseCommand, EXIT_CODES_HELP} from '../../src/cli/base-command.js'
import {secretPathFlag, targetFlag} from '../../src/cli/flags.js'
import {renderVersionList} from '../../src/report/history.js'
import {listExitCode, listHistory, openHistory, type VersionListResult} from '../../src/versions/history.js'

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

  async run(): Promise<VersionListResult> {
    const {flags} = await this.parse(VersionList)
    const context = await openHistory({configPath: flags.config, surroundings: this.surroundings(flags)})
    const result = await listHistory(context, {target: flags.target, path: flags.path})
    this.setExitCode(listExitCode(result))
    if (!this.jsonEnabled()) process.stdout.write(renderVersionList(result))
    return result
  }
}
