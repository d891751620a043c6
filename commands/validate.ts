import {Flags} from '@oclif/core'
import {BaseCommand, EXIT_CODES_HELP} from '../src/cli/base-command.js'
import {accessExitCode} from '../src/exit-codes.js'
import {renderValidateText, validateProject, type ValidateResult} from '../src/validate.js'

export default class Validate extends BaseCommand {
  static override summary = 'Validate the config file, the target graph and secret names.'
  static override description = `Loads the config (interpolating \${VAR} and \${VAR:-default}), checks every section, builds the target graph (unknown, duplicate, self and cyclic imports are errors) and checks secret prefixes against AWS name rules. Contacts nothing unless --check-access is given.\n\n${EXIT_CODES_HELP}`
  static override enableJsonFlag = true
  static override examples = [
    '<%= config.bin %> validate -c secretsync.yaml',
    '<%= config.bin %> validate -c secretsync.yaml --json',
    '<%= config.bin %> validate --check-access',
  ]

  static override flags = {
    'check-access': Flags.boolean({
      description: 'Also authenticate to Vault and AWS and report reachability per source and target (writes nothing).',
      env: 'SECRETSYNC_CHECK_ACCESS',
    }),
  }

  async run(): Promise<ValidateResult> {
    const {flags} = await this.parse(Validate)
    const result = await validateProject({
      configPath: flags.config,
      checkAccess: flags['check-access'],
      surroundings: this.surroundings(flags),
    })
    this.setExitCode(accessExitCode(result.access))
    if (!this.jsonEnabled()) process.stdout.write(renderValidateText(result))
    return result
  }
}
