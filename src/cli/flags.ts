import {Flags} from '@oclif/core'

/** Flag definitions shared by commands; every flag declares its SECRETSYNC_* variable. */

export const configFlag = Flags.string({
  char: 'c',
  description: 'Path to the secretsync config file.',
  env: 'SECRETSYNC_CONFIG',
  default: 'secretsync.yaml',
  helpGroup: 'GLOBAL',
})

export const logLevelFlag = Flags.option({
  options: ['error', 'warn', 'info', 'debug'] as const,
  description: 'Log level (overrides logging.level in the config).',
  env: 'SECRETSYNC_LOG_LEVEL',
  helpGroup: 'GLOBAL',
})()

export const logFormatFlag = Flags.option({
  options: ['json', 'text'] as const,
  description: 'Log format on stderr (overrides logging.format in the config).',
  env: 'SECRETSYNC_LOG_FORMAT',
  helpGroup: 'GLOBAL',
})()

export const dryRunFlag = Flags.boolean({
  description: 'Plan only: no writes anywhere (not S3, not AWS, not the lock); Vault is only read.',
  env: 'SECRETSYNC_DRY_RUN',
})

export const showValuesFlag = Flags.boolean({
  description: 'Show secret values in diffs. Never the default: values are masked otherwise.',
  env: 'SECRETSYNC_SHOW_VALUES',
})

export const outputFlag = Flags.option({
  char: 'o',
  options: ['text', 'json', 'github', 'compact'] as const,
  description: 'Output format of the result on stdout.',
  env: 'SECRETSYNC_OUTPUT',
  default: 'text',
})()

export const targetFlag = Flags.string({
  description: 'Target name.',
  env: 'SECRETSYNC_TARGET',
})

export const snapshotVersionFlag = Flags.integer({
  description: 'Snapshot version number.',
  env: 'SECRETSYNC_VERSION',
  min: 1,
})

export const secretPathFlag = Flags.string({
  description: 'One secret, as <target>/<relative path>.',
  env: 'SECRETSYNC_PATH',
})

export const noCacheFlag = Flags.boolean({
  description: 'Ignore cached discovery results and query AWS Organizations / Identity Center again.',
  env: 'SECRETSYNC_NO_CACHE',
})

export const globalFlags = {
  config: configFlag,
  'log-level': logLevelFlag,
  'log-format': logFormatFlag,
}
