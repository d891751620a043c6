import {Flags} from '@oclif/core'
import {BaseCommand, EXIT_CODES_HELP} from '../src/cli/base-command.js'
import {dryRunFlag, noCacheFlag, outputFlag, showValuesFlag, snapshotVersionFlag} from '../src/cli/flags.js'
import {runPipelineReport} from '../src/pipeline/run-pipeline-report.js'
import {describeFatal} from '../src/report/fatal-error.js'
import {reportGithubFailure} from '../src/report/render-pipeline.js'

export default class Pipeline extends BaseCommand {
  static override summary = 'Merge Vault sources into targets, then sync them to AWS Secrets Manager.'
  static override description = `Phase 1 (merge) walks the Vault KV v2 sources breadth-first, deep-merges them per target and writes versioned snapshots to the S3 merge store. Phase 2 (sync) orders targets by their imports, assumes a role into each account and applies the diff to AWS Secrets Manager.\n\n${EXIT_CODES_HELP}`
  static override enableJsonFlag = true
  static override examples = [
    '<%= config.bin %> pipeline --dry-run',
    '<%= config.bin %> pipeline --targets production-us-east-1 --diff',
    '<%= config.bin %> pipeline --merge-only',
    '<%= config.bin %> pipeline --sync-only --output github',
    '<%= config.bin %> pipeline --targets production-us-east-1 --version 3',
    'SECRETSYNC_SHARDS=4 JOB_COMPLETION_INDEX=0 <%= config.bin %> pipeline',
  ]

  static override flags = {
    'dry-run': dryRunFlag,
    'merge-only': Flags.boolean({
      description: 'Run only the merge phase (write snapshots, no sync).',
      env: 'SECRETSYNC_MERGE_ONLY',
    }),
    'sync-only': Flags.boolean({
      description: 'Run only the sync phase, from the latest snapshots in the merge store.',
      env: 'SECRETSYNC_SYNC_ONLY',
    }),
    targets: Flags.string({
      description: 'Comma-separated target names; their imports are included. Unknown names are an error.',
      env: 'SECRETSYNC_TARGETS',
    }),
    diff: Flags.boolean({description: 'Print the diff also when applying.', env: 'SECRETSYNC_DIFF'}),
    output: outputFlag,
    'show-values': showValuesFlag,
    'exit-code': Flags.boolean({description: 'Exit 4 when there are changes.', env: 'SECRETSYNC_EXIT_CODE'}),
    version: snapshotVersionFlag,
    adopt: Flags.boolean({
      description: 'Take over same-named secrets that lack the ownership tag (overrides sync.adopt).',
      env: 'SECRETSYNC_ADOPT',
    }),
    'no-cache': noCacheFlag,
    'metrics-port': Flags.integer({
      description: 'Serve Prometheus metrics on this port during the run.',
      env: 'SECRETSYNC_METRICS_PORT',
      min: 1,
      max: 65_535,
    }),
    pushgateway: Flags.string({
      description: 'Push metrics to this Prometheus Pushgateway URL at the end of the run.',
      env: 'SECRETSYNC_PUSHGATEWAY',
    }),
    shard: Flags.string({
      description:
        'Sync only shard i of n (i/n, 0-based) of a balanced split every shard computes alike; default from JOB_COMPLETION_INDEX when SECRETSYNC_SHARDS is set.',
      env: 'SECRETSYNC_SHARD',
    }),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(Pipeline)
    const surroundings = this.surroundings(flags)
    const format = this.jsonEnabled() ? 'json' : flags.output
    try {
      const report = await runPipelineReport(
        {
          configPath: flags.config,
          dryRun: flags['dry-run'] ?? false,
          mergeOnly: flags['merge-only'] ?? false,
          syncOnly: flags['sync-only'] ?? false,
          targets: flags.targets,
          version: flags.version,
          adopt: flags.adopt || undefined,
          showValues: flags['show-values'] ?? false,
          exitCodeOnChanges: flags['exit-code'] ?? false,
          shard: flags.shard,
          metricsPort: flags['metrics-port'],
          noCache: flags['no-cache'] ?? false,
          pushgateway: flags.pushgateway,
          format,
          diff: flags.diff ?? false,
        },
        surroundings,
      )
      this.setExitCode(report.exitCode)
      // `--json` is `--output json` (the same text logJson would write), printed as it is read back.
      try {
        await report.print(process.stdout)
      } finally {
        report.close()
      }
      return undefined
    } catch (error) {
      // In Actions a run that ends on an error still gets its annotation and step summary; `catch` prints it.
      if (format === 'github' && error instanceof Error) {
        process.stdout.write(await reportGithubFailure(describeFatal(error), surroundings.env))
      }
      throw error
    }
  }
}
