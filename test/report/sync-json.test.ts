import {describe, expect, it} from 'vitest'
import {renderSyncJson} from '../../src/report/sync-json.js'
import {change, run, sampleRun, sampleRunWithValues, target} from './sync-fixtures.js'

describe('renderSyncJson', () => {
  it('pins the docs/design.md §2 contract: keys in order, unchanged secrets counted but not listed', () => {
    // Given a dry run over two targets: a create, a drifted update, a conflict and a failed target
    const result = sampleRun()

    // When it is rendered as the command prints it
    const printed = JSON.stringify(renderSyncJson(result, {showValues: false}), null, 2)

    // Then the text is exactly the documented shape, in the documented key order
    expect(printed).toMatchInlineSnapshot(`
      "{
        "run_id": "run-1",
        "dry_run": true,
        "summary": {
          "targets": 2,
          "failed_targets": 1,
          "created": 1,
          "updated": 1,
          "restored": 0,
          "deleted": 0,
          "unchanged": 40,
          "conflicts": 1,
          "drifted": 1,
          "failed": 0,
          "held": 0,
          "skipped": 0
        },
        "targets": [
          {
            "name": "prod-us",
            "account_id": "111111111111",
            "region": "us-east-1",
            "status": "planned",
            "snapshot_version": 3,
            "error": null,
            "changes": [
              {
                "action": "create",
                "name": "app/new",
                "path": "app/new",
                "drift": false,
                "keys_added": [
                  "url"
                ],
                "keys_removed": [],
                "keys_changed": [],
                "tags_added": [],
                "tags_changed": [],
                "tags_removed": [],
                "kms_key_changed": false,
                "description_changed": false,
                "held": false,
                "error": null
              },
              {
                "action": "update",
                "name": "app/db",
                "path": "app/db",
                "drift": true,
                "keys_added": [
                  "port"
                ],
                "keys_removed": [
                  "legacy"
                ],
                "keys_changed": [
                  "password"
                ],
                "tags_added": [],
                "tags_changed": [],
                "tags_removed": [],
                "kms_key_changed": false,
                "description_changed": false,
                "held": false,
                "error": null
              },
              {
                "action": "conflict",
                "name": "app/legacy",
                "path": "app/legacy",
                "drift": false,
                "keys_added": [],
                "keys_removed": [],
                "keys_changed": [],
                "tags_added": [],
                "tags_changed": [],
                "tags_removed": [],
                "kms_key_changed": false,
                "description_changed": false,
                "held": false,
                "error": "exists without tag managed-by=secretsync; use --adopt"
              }
            ]
          },
          {
            "name": "staging",
            "account_id": null,
            "region": "us-west-2",
            "status": "failed",
            "snapshot_version": null,
            "error": "AssumeRole denied",
            "changes": []
          }
        ]
      }"
    `)
  })

  it('never carries values without showValues, even when the input holds them', () => {
    // Given changes that carry before/after values
    const result = sampleRunWithValues()

    // When it is rendered without showValues
    const json = renderSyncJson(result, {showValues: false})

    // Then no change has before/after and no value text appears anywhere
    const changes = json.targets.flatMap((t) => t.changes)
    expect(changes.length).toBe(3)
    for (const c of changes) {
      expect(Object.keys(c)).not.toContain('before')
      expect(Object.keys(c)).not.toContain('after')
    }
    expect(JSON.stringify(json)).not.toContain('VALUE-')
  })

  it('with showValues adds before and after, null where a side does not exist', () => {
    // Given a create (no before) and an update with both sides
    const result = sampleRunWithValues()

    // When it is rendered with showValues
    const json = renderSyncJson(result, {showValues: true})

    // Then both keys come after error, with the values as given
    const [create, update] = json.targets[0]?.changes ?? []
    expect(Object.keys(create ?? {}).slice(-3)).toEqual(['error', 'before', 'after'])
    expect(create?.before).toBeNull()
    expect(create?.after).toEqual({url: 'VALUE-new-url'})
    expect(update?.before).toEqual({password: 'VALUE-old-password', legacy: true, host: 'VALUE-host'})
  })

  it('with showValues and no values in the plan, before and after are null rather than missing', () => {
    // Given a delete whose plan carries no values
    const result = run([target('t', {changes: [change('delete', 'app/old')]})])

    // When it is rendered with showValues
    const [deleted] = renderSyncJson(result, {showValues: true}).targets[0]?.changes ?? []

    // Then the shape is the same as for any other change
    expect(deleted).toMatchObject({before: null, after: null})
    expect(Object.keys(deleted ?? {})).toContain('before')
  })

  it('drops fields that are not part of the contract', () => {
    // Given a target and a change that carry extra fields (as a richer internal result might)
    const extra = {...change('create', 'app/x'), internal_hash: 'abc'}
    const result = run([{...target('t', {changes: [extra]}), applied_record: {}} as ReturnType<typeof target>])

    // When it is rendered
    const json = renderSyncJson(result, {showValues: false})

    // Then only the documented keys are emitted
    expect(Object.keys(json.targets[0] ?? {})).toEqual([
      'name',
      'account_id',
      'region',
      'status',
      'snapshot_version',
      'error',
      'changes',
    ])
    expect(JSON.stringify(json)).not.toContain('internal_hash')
  })
})
