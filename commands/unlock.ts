import {Flags} from '@oclif/core'
import {BaseCommand, EXIT_CODES_HELP} from '../src/cli/base-command.js'
import {renderUnlock} from '../src/report/unlock.js'
import {unlockTarget, type UnlockResult} from '../src/unlock.js'

export default class Unlock extends BaseCommand {
  static override summary = "Remove a target's run lock left by a run that died."
  static override description = `Run locks live at {prefix}locks/{target}.json in the merge store and expire after merge_store.lock_ttl (default 10m) unless their run renews them. A stale lock (expired, or held by a process on this host that is no longer running) is removed; a live one is refused unless --force, after which the run holding it stops writing at its next renewal.\n\n${EXIT_CODES_HELP}`
  static override enableJsonFlag = true
  static override examples = [
    '<%= config.bin %> unlock --target production-us-east-1',
    '<%= config.bin %> unlock --target production-us-east-1 --force',
  ]

  static override flags = {
    target: Flags.string({description: 'Target whose run lock to remove.', env: 'SECRETSYNC_TARGET', required: true}),
    force: Flags.boolean({description: 'Remove the lock even while its holder looks alive.', env: 'SECRETSYNC_FORCE'}),
  }

  async run(): Promise<UnlockResult> {
    const {flags} = await this.parse(Unlock)
    const result = await unlockTarget({
      configPath: flags.config,
      target: flags.target,
      force: flags.force ?? false,
      surroundings: this.surroundings(flags),
    })
    if (!this.jsonEnabled()) process.stdout.write(renderUnlock(result))
    return result
  }
}
