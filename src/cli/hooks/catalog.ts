import type {Interfaces} from '@oclif/core'
import type {CommandCatalog} from '../unknown-command.js'

/** The visible commands and topics of the loaded CLI. */
export const catalogOf = (config: Interfaces.Config): CommandCatalog => ({
  commands: config.commands.filter((command) => !command.hidden).map((command) => command.id),
  topics: config.topics.map((topic) => topic.name),
})

/** `--help`/`-h` anywhere before `--`: leave it to oclif's help. */
export function helpRequested(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false
    if (arg === '--help' || arg === '-h') return true
  }
  return false
}
