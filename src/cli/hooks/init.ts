import type {Hook} from '@oclif/core'
import {ExitCode} from '../../errors.js'
import {catalogOf, helpRequested} from './catalog.js'

/** Before oclif shows a topic's help with exit 0: a topic followed by more words or flags is a usage error (exit 2). */
const hook: Hook.Init = async function (options) {
  if (options.id === undefined || options.argv.length === 0 || helpRequested(options.argv)) return
  const catalog = catalogOf(options.config)
  if (!catalog.topics.includes(options.id) || catalog.commands.includes(options.id)) return
  // Every start runs this hook: the error's modules load only when there is an error to print.
  const {renderUsageError, topicWithoutCommand} = await import('../unknown-command.js')
  const error = topicWithoutCommand(options.id, options.argv, catalog)
  if (!error) return
  process.stderr.write(renderUsageError(error))
  this.exit(ExitCode.usage)
}

export default hook
