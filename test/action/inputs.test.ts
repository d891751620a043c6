import {describe, expect, it} from 'vitest'
import {booleanInput, decideDryRun, readActionInputs, readInput} from '../../src/action/inputs.js'
import {UsageError} from '../../src/errors.js'

describe('reading inputs the way the runner passes them', () => {
  it('INPUT_<NAME>: upper-cased, spaces as underscores, hyphens kept, trimmed', () => {
    const env = {'INPUT_DRY-RUN': ' true \n', INPUT_MY_INPUT: 'x'}
    expect(readInput(env, 'dry-run')).toBe('true')
    expect(readInput(env, 'my input')).toBe('x')
    expect(readInput(env, 'missing')).toBe('')
  })

  it.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['false', false],
    ['False', false],
    ['FALSE', false],
    ['', undefined],
  ])('boolean %j is %s', (value, expected) => {
    expect(booleanInput({INPUT_ADOPT: value}, 'adopt')).toBe(expected)
  })

  it.each(['yes', 'no', '1', '0', 'on', 'off', 'tRue', 'y', 'maybe'])(
    'boolean %j is a usage error naming the input',
    (value) => {
      expect(() => booleanInput({'INPUT_DRY-RUN': value}, 'dry-run')).toThrow(UsageError)
      expect(() => booleanInput({'INPUT_DRY-RUN': value}, 'dry-run')).toThrow('input "dry-run" must be true or false')
    },
  )

  it('refuses a bad output, log-level or version, naming the input', () => {
    expect(() => readActionInputs({INPUT_OUTPUT: 'yaml'})).toThrow(
      'input "output" must be one of github, text, json, compact',
    )
    expect(() => readActionInputs({'INPUT_LOG-LEVEL': 'loud'})).toThrow('input "log-level" must be one of')
    expect(() => readActionInputs({INPUT_VERSION: '0'})).toThrow('input "version" must be a snapshot number')
    expect(() => readActionInputs({INPUT_VERSION: '1.5'})).toThrow('input "version"')
  })

  it('maps the inputs onto the pipeline request', () => {
    const inputs = readActionInputs({
      INPUT_CONFIG: 'conf/secretsync.yaml',
      INPUT_TARGETS: 'a,b',
      INPUT_VERSION: '3',
      'INPUT_SYNC-ONLY': 'true',
      'INPUT_EXIT-CODE': 'TRUE',
      INPUT_ADOPT: 'false',
      'INPUT_WORKING-DIRECTORY': 'infra',
      GITHUB_EVENT_NAME: 'push',
    })
    expect(inputs.request).toMatchObject({
      configPath: 'conf/secretsync.yaml',
      targets: 'a,b',
      version: 3,
      syncOnly: true,
      mergeOnly: false,
      exitCodeOnChanges: true,
      adopt: undefined,
      dryRun: false,
      format: 'github',
      maskValues: true,
    })
    expect(inputs.workingDirectory).toBe('infra')
  })
})

describe('plan by default where it must', () => {
  it.each([
    [undefined, 'pull_request', true],
    [undefined, 'pull_request_target', true],
    [undefined, 'pull_request_review', true],
    [undefined, 'push', false],
    [undefined, 'schedule', false],
    [undefined, 'workflow_dispatch', false],
    [undefined, undefined, false],
    [false, 'pull_request', false],
    [true, 'push', true],
  ] as const)('dry-run input %s on %s: dry run %s', (input, event, dryRun) => {
    expect(decideDryRun(input, event).dryRun).toBe(dryRun)
  })

  it('says which rule decided', () => {
    expect(decideDryRun(undefined, 'pull_request').note).toMatch(/not set, and pull_request events plan by default/)
    expect(decideDryRun(false, 'pull_request').note).toMatch(/input is false, so this pull_request event applies/)
    expect(decideDryRun(undefined, 'push').note).toMatch(/not set, and push events apply by default/)
    expect(decideDryRun(true, 'push').note).toMatch(/the dry-run input is true/)
  })
})
