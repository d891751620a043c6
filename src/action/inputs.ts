import {UsageError} from '../errors.js'
import type {LogFormat, LogLevel} from '../observability/logger.js'
import type {PipelineReportRequest} from '../pipeline/run-pipeline-report.js'
import type {SyncFormat} from '../report/render-sync.js'

type Env = Readonly<Record<string, string | undefined>>

/**
 * An input as the runner hands it to a JavaScript action: `INPUT_<NAME>`, upper-cased, spaces as `_`, hyphens
 * kept (`INPUT_DRY-RUN`). Trimmed; empty when not given (the runner sets the action.yml default, if any).
 */
export const readInput = (env: Env, name: string): string =>
  (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim()

// action.yml inputs are YAML 1.2 core booleans; GitHub documents exactly these six spellings. `yes`, `1` or `on`
// fell through to "false" before, and "false" meant apply: anything else is refused.
const TRUE_WORDS = new Set(['true', 'True', 'TRUE'])
const FALSE_WORDS = new Set(['false', 'False', 'FALSE'])

/** A boolean input: undefined when not given, a usage error naming the input when not a YAML 1.2 boolean. */
export function booleanInput(env: Env, name: string): boolean | undefined {
  const value = readInput(env, name)
  if (value === '') return undefined
  if (TRUE_WORDS.has(value)) return true
  if (FALSE_WORDS.has(value)) return false
  throw new UsageError(`input "${name}" must be true or false (True/TRUE/False/FALSE also); its value is neither`, {
    code: 'BAD_BOOLEAN_INPUT',
    hint: `Write \`${name}: true\` or \`${name}: false\` under \`with:\`, or leave it out.`,
  })
}

function choiceInput<T extends string>(env: Env, name: string, choices: readonly T[]): T | undefined {
  const value = readInput(env, name)
  if (value === '') return undefined
  if ((choices as readonly string[]).includes(value)) return value as T
  throw new UsageError(`input "${name}" must be one of ${choices.join(', ')}`, {
    code: 'BAD_INPUT',
    hint: `Write \`${name}: ${choices[0]}\` (or another of ${choices.join(', ')}) under \`with:\`, or leave it out.`,
  })
}

function versionInput(env: Env): number | undefined {
  const value = readInput(env, 'version')
  if (value === '') return undefined
  if (!/^[1-9][0-9]{0,8}$/.test(value)) {
    throw new UsageError('input "version" must be a snapshot number (1 or more)', {
      code: 'BAD_INPUT',
      hint: 'Leave `version` empty to sync the latest snapshot.',
    })
  }
  return Number(value)
}

/** Events whose run holds a pull request's unmerged commits (pull_request, pull_request_target, _review ...). */
export const isPullRequestEvent = (eventName: string | undefined): boolean =>
  eventName !== undefined && eventName.startsWith('pull_request')

export interface DryRunDecision {
  dryRun: boolean
  /** Why, in one plain sentence for the log and the step summary. */
  note: string
}

/**
 * Plan where applying would ship unreviewed config: on pull-request events `dry-run` defaults to true, elsewhere
 * to false. An explicit input always wins, and the note says which rule decided.
 */
export function decideDryRun(input: boolean | undefined, eventName: string | undefined): DryRunDecision {
  const event = eventName || 'unknown'
  if (input === true) return {dryRun: true, note: `Plan (dry run): the dry-run input is true (event ${event}).`}
  if (input === false) {
    return {
      dryRun: false,
      note: isPullRequestEvent(eventName)
        ? `Apply: the dry-run input is false, so this ${event} event applies although pull-request events plan by default.`
        : `Apply: the dry-run input is false (event ${event}).`,
    }
  }
  return isPullRequestEvent(eventName)
    ? {
        dryRun: true,
        note: `Plan (dry run): dry-run is not set, and ${event} events plan by default (the config under review is not merged). Set dry-run: false to apply.`,
      }
    : {
        dryRun: false,
        note: `Apply: dry-run is not set, and ${event} events apply by default. Set dry-run: true to plan only.`,
      }
}

// The CLI reads SECRETSYNC_<FLAG>; the Action reads its inputs instead. A variable left on the job for a flag that
// has an input would be ignored, and an ignored SECRETSYNC_DRY_RUN=true means an apply: refuse it instead.
const REPLACED_BY_INPUT: Record<string, string> = {
  SECRETSYNC_CONFIG: 'config',
  SECRETSYNC_DRY_RUN: 'dry-run',
  SECRETSYNC_TARGETS: 'targets',
  SECRETSYNC_OUTPUT: 'output',
  SECRETSYNC_EXIT_CODE: 'exit-code',
  SECRETSYNC_SHOW_VALUES: 'show-values',
  SECRETSYNC_SYNC_ONLY: 'sync-only',
  SECRETSYNC_MERGE_ONLY: 'merge-only',
  SECRETSYNC_VERSION: 'version',
  SECRETSYNC_ADOPT: 'adopt',
  SECRETSYNC_LOG_LEVEL: 'log-level',
}

function refuseReplacedVariables(env: Env): void {
  for (const [variable, input] of Object.entries(REPLACED_BY_INPUT)) {
    if ((env[variable] ?? '').trim() === '') continue
    throw new UsageError(`${variable} is set, but the Action reads the input "${input}" instead`, {
      code: 'FLAG_VARIABLE_IN_ACTION',
      hint: `Write \`${input}:\` under the step's \`with:\` and remove ${variable} from its \`env:\`.`,
    })
  }
}

export interface ActionInputs {
  request: PipelineReportRequest
  workingDirectory: string
  logLevel?: LogLevel
  logFormat?: LogFormat
  /** Why the run plans or applies. */
  dryRunNote: string
  dryRun: boolean
}

/** Every input, checked before anything is contacted: a bad one is a usage error (exit 2) naming it. */
export function readActionInputs(env: Env): ActionInputs {
  refuseReplacedVariables(env)
  const mergeOnly = booleanInput(env, 'merge-only') ?? false
  const syncOnly = booleanInput(env, 'sync-only') ?? false
  const exitCodeOnChanges = booleanInput(env, 'exit-code') ?? false
  const showValues = booleanInput(env, 'show-values') ?? false
  const adopt = booleanInput(env, 'adopt')
  const decision = decideDryRun(booleanInput(env, 'dry-run'), env.GITHUB_EVENT_NAME)
  const format: SyncFormat = choiceInput(env, 'output', ['github', 'text', 'json', 'compact'] as const) ?? 'github'
  const logLevel = choiceInput(env, 'log-level', ['error', 'warn', 'info', 'debug'] as const)
  // No input: logging is the config's business; the variable keeps working as in the CLI.
  const logFormat = (env.SECRETSYNC_LOG_FORMAT ?? '').trim() === '' ? undefined : logFormatVariable(env)
  const targets = readInput(env, 'targets')
  return {
    request: {
      configPath: readInput(env, 'config') || 'secretsync.yaml',
      dryRun: decision.dryRun,
      mergeOnly,
      syncOnly,
      targets: targets === '' ? undefined : targets,
      version: versionInput(env),
      // As in the CLI: the input can turn adoption on for one run, never off against sync.adopt.
      adopt: adopt || undefined,
      showValues,
      exitCodeOnChanges,
      shard: env.SECRETSYNC_SHARD?.trim() || undefined,
      pushgateway: env.SECRETSYNC_PUSHGATEWAY?.trim() || undefined,
      format,
      diff: false,
      maskValues: true,
      note: decision.note,
    },
    workingDirectory: readInput(env, 'working-directory') || '.',
    logLevel,
    logFormat,
    dryRunNote: decision.note,
    dryRun: decision.dryRun,
  }
}

function logFormatVariable(env: Env): LogFormat {
  const value = (env.SECRETSYNC_LOG_FORMAT ?? '').trim()
  if (value === 'json' || value === 'text') return value
  throw new UsageError('SECRETSYNC_LOG_FORMAT must be json or text', {code: 'BAD_INPUT'})
}
