import type {Hook} from '@oclif/core'
import {ExitCode} from '../../errors.js'
import {catalogOf} from './catalog.js'
import {commandNotFound, renderUsageError} from '../unknown-command.js'

/** An unknown command: a usage error (exit 2) with the closest command, in the CLI's own error format. */
const hook: Hook.CommandNotFound = async function (options) {
  process.stderr.write(renderUsageError(commandNotFound(options.id, catalogOf(options.config))))
  this.exit(ExitCode.usage)
}

export default hook
