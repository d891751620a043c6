import type {SecretChange, SyncRunResult, TargetSyncResult} from '../../src/sync/types.js'

/** Plain-data builders for sync results; each test states only what it is about. */

export const change = (
  action: SecretChange['action'],
  name: string,
  fields: Partial<SecretChange> = {},
): SecretChange => ({
  action,
  name,
  path: name,
  drift: false,
  keys_added: [],
  keys_removed: [],
  keys_changed: [],
  tags_added: [],
  tags_changed: [],
  tags_removed: [],
  kms_key_changed: false,
  description_changed: false,
  held: false,
  error: null,
  ...fields,
})

export const target = (name: string, fields: Partial<TargetSyncResult> = {}): TargetSyncResult => ({
  name,
  account_id: '111111111111',
  region: 'us-east-1',
  status: 'planned',
  snapshot_version: 3,
  error: null,
  changes: [],
  unchanged: 0,
  ...fields,
})

const count = (targets: TargetSyncResult[], test: (c: SecretChange) => boolean): number =>
  targets.flatMap((t) => t.changes).filter(test).length

/** A run as a fixture holds it: its targets an array (a real run's are its SettledTargets). */
export type RunFixture = SyncRunResult & {targets: TargetSyncResult[]}

/** A run whose summary is counted from its targets (conflicts count as conflicts, not as failed). */
export function run(targets: TargetSyncResult[], fields: Partial<RunFixture> = {}): RunFixture {
  const written = (action: SecretChange['action']) => (c: SecretChange) => c.action === action && c.error === null
  return {
    run_id: 'run-1',
    dry_run: true,
    summary: {
      targets: targets.length,
      failed_targets: targets.filter((t) => t.status === 'failed').length,
      created: count(targets, written('create')),
      updated: count(targets, written('update')),
      restored: count(targets, written('restore')),
      deleted: count(targets, written('delete')),
      unchanged: targets.reduce((sum, t) => sum + t.unchanged, 0),
      skipped: count(targets, (c) => c.action === 'skip'),
      conflicts: count(targets, (c) => c.action === 'conflict'),
      drifted: count(targets, (c) => c.drift),
      failed: count(targets, (c) => c.action !== 'conflict' && c.error !== null),
      held: count(targets, (c) => c.held),
      policies: count(targets, (c) => c.policy !== undefined && c.error === null),
    },
    targets,
    ...fields,
  }
}

/** Two targets: a create, an update with drift and key changes, a conflict; the second target failed. */
export const sampleRun = (fields: Partial<RunFixture> = {}): RunFixture =>
  run(
    [
      target('prod-us', {
        changes: [
          change('create', 'app/new', {keys_added: ['url']}),
          change('update', 'app/db', {
            drift: true,
            keys_added: ['port'],
            keys_removed: ['legacy'],
            keys_changed: ['password'],
          }),
          change('conflict', 'app/legacy', {error: 'exists without tag managed-by=secretsync; use --adopt'}),
        ],
        unchanged: 40,
      }),
      target('staging', {
        account_id: null,
        region: 'us-west-2',
        status: 'failed',
        snapshot_version: null,
        error: 'AssumeRole denied',
        unchanged: 0,
      }),
    ],
    fields,
  )

/** The sample with values attached to every change, each value unique so a leak is easy to find. */
export const sampleRunWithValues = (fields: Partial<RunFixture> = {}): RunFixture => {
  const result = sampleRun(fields)
  const [prod, staging] = result.targets
  if (!prod || !staging) throw new Error('sample has two targets')
  const [create, update, conflict] = prod.changes
  if (!create || !update || !conflict) throw new Error('sample has three changes')
  const withValues: TargetSyncResult = {
    ...prod,
    changes: [
      {...create, before: null, after: {url: 'VALUE-new-url'}},
      {
        ...update,
        before: {password: 'VALUE-old-password', legacy: true, host: 'VALUE-host'},
        after: {password: 'VALUE-new-password', port: 5432, host: 'VALUE-host'},
      },
      {...conflict, before: {x: 'VALUE-foreign'}, after: {x: 'VALUE-desired'}},
    ],
  }
  return {...result, targets: [withValues, staging]}
}
