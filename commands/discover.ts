import {BaseCommand, EXIT_CODES_HELP} from '../src/cli/base-command.js'
import {noCacheFlag} from '../src/cli/flags.js'
import {runDiscover, type DiscoverResult} from '../src/pipeline/run-discover.js'
import {renderDiscoverText} from '../src/report/discover-report.js'

export default class Discover extends BaseCommand {
  static override summary = 'Run discovery and print the accounts found and the targets they become.'
  static override description = `Queries AWS Organizations and IAM Identity Center as the discovery blocks of the config say, and prints each account found, why it was included or excluded, and the target it produces.\n\n${EXIT_CODES_HELP}`
  static override enableJsonFlag = true
  static override examples = ['<%= config.bin %> discover', '<%= config.bin %> discover --no-cache --json']

  static override flags = {'no-cache': noCacheFlag}

  async run(): Promise<DiscoverResult> {
    const {flags} = await this.parse(Discover)
    const {result, exitCode} = await runDiscover({
      configPath: flags.config,
      noCache: flags['no-cache'] ?? false,
      surroundings: this.surroundings(flags),
    })
    this.setExitCode(exitCode)
    if (!this.jsonEnabled()) process.stdout.write(renderDiscoverText(result))
    return result
  }
}
