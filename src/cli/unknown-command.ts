import {closest} from '../config/did-you-mean.js'
import {UsageError} from '../errors.js'
import {escapeUntrusted} from '../util/untrusted-text.js'

/** What the CLI knows: command ids and topic names in oclif's `:` form (`version:list`, `version`). */
export interface CommandCatalog {
  commands: readonly string[]
  topics: readonly string[]
}

const spaced = (id: string): string => id.replaceAll(':', ' ')
const isFlag = (arg: string): boolean => arg.startsWith('-')

/**
 * `secretsync version -c x list`: oclif reads `version` as the command (flags end the command words), finds only
 * a topic and would print its help with exit 0, so a script that mistyped the order thinks it succeeded. With
 * anything after the topic it is a usage error; the suggestion moves the subcommand word in front of the flags.
 * `secretsync version` alone (nothing after it) stays the topic's help.
 */
export function topicWithoutCommand(
  id: string,
  argv: readonly string[],
  catalog: CommandCatalog,
): UsageError | undefined {
  if (argv.length === 0 || !catalog.topics.includes(id) || catalog.commands.includes(id)) return undefined
  const subcommands = catalog.commands.filter((command) => command.startsWith(`${id}:`))
  const named = argv.find((arg) => !isFlag(arg) && subcommands.includes(`${id}:${arg}`))
  const rest = argv.filter((arg, index) => index !== argv.indexOf(named ?? ''))
  const suggestion = named
    ? `did you mean "secretsync ${spaced(id)} ${named}${rest.length > 0 ? ` ${rest.join(' ')}` : ''}"?`
    : `one of: ${subcommands.map(spaced).join(', ')}`
  return new UsageError(escapeUntrusted(`"${spaced(id)}" needs a subcommand before its flags: ${suggestion}`), {
    code: 'COMMAND_UNKNOWN',
    hint: `Run \`secretsync ${spaced(id)} --help\` for its subcommands.`,
  })
}

/** `secretsync pipelin`, `secretsync version lst`: a usage error naming the closest command, if one is close. */
export function commandNotFound(id: string, catalog: CommandCatalog): UsageError {
  const candidates = catalog.commands.map(spaced)
  const match = closest(spaced(id), candidates)
  return new UsageError(
    escapeUntrusted(`unknown command "${spaced(id)}"${match ? `: did you mean "secretsync ${match}"?` : ''}`),
    {code: 'COMMAND_UNKNOWN', hint: `Commands: ${candidates.join(', ')}. Run \`secretsync --help\` for more.`},
  )
}

/** The error as every command prints it (`Error:` then `Hint:`, see BaseCommand.catch), for hooks outside a command. */
export const renderUsageError = (error: UsageError): string =>
  `Error: ${error.message}\n${error.hint ? `Hint: ${escapeUntrusted(error.hint)}\n` : ''}`
