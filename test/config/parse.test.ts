import {describe, expect, it} from 'vitest'
import {parseConfig} from '../../src/config/load.js'

// Happy paths of every section: what a minimal config becomes, and what each section accepts.

const parse = (text: string, env: Record<string, string> = {}) => parseConfig(text, 'secretsync.yaml', {env}).config

describe('config defaults', () => {
  const config = parse('targets: [{name: t, region: us-east-1}]\n')

  it('sync, circuit_breaker, retry, metrics, logging and merge take the documented defaults', () => {
    expect(config.sync).toEqual({
      concurrency: 8,
      write_rate: 40,
      throttle_deadline: 900_000,
      delete_orphans: false,
      recovery_window_days: 30,
      force_delete: false,
      max_deletions: 25,
      ownership_tag: {key: 'managed-by', value: 'secretsync'},
      adopt: false,
    })
    expect(config.circuit_breaker).toEqual({
      enabled: true,
      failure_threshold: 5,
      window: 10_000,
      timeout: 30_000,
      max_requests: 1,
    })
    expect(config.retry).toEqual({max_attempts: 5, base_delay: 200, max_delay: 20_000})
    expect(config.metrics).toEqual({enabled: false, port: 9090, path: '/metrics', pushgateway: '', job: 'secretsync'})
    expect(config.logging).toEqual({level: 'info', format: 'json'})
    expect(config.merge).toEqual({lists: 'append'})
    expect(config.aws).toEqual({external_id: '', timeout: 30_000})
    expect(config.merge_store).toBeUndefined()
    expect(config.vault).toBeUndefined()
  })

  it('targets default to aws_secretsmanager with empty imports, overrides, prefix and tags', () => {
    expect(config.targets[0]).toEqual({
      name: 't',
      type: 'aws_secretsmanager',
      region: 'us-east-1',
      imports: [],
      overrides: {},
      secret_prefix: '',
      tags: {},
    })
  })
})

describe('config sections', () => {
  it('vault: approle auth, namespace, durations; sources get their name and compaction threshold', () => {
    const config = parse(`vault:
  address: https://vault:8200
  namespace: team-a
  auth: {method: approle, role_id: r, secret_id: s, mount: ci-approle}
  timeout: 1m
vault_sources:
  - {mount: secret/base, max_secrets: 50000}
  - {name: tiny, mount: kv/x/, max_secrets: 10}
`)
    expect(config.vault).toMatchObject({
      address: 'https://vault:8200',
      namespace: 'team-a',
      concurrency: 16,
      timeout: 60_000,
      auth: {method: 'approle', mount: 'ci-approle'},
    })
    expect(config.vault_sources).toEqual([
      {name: 'base', mount: 'secret/base/', max_secrets: 50_000, max_depth: 100, queue_compaction_threshold: 500},
      {name: 'tiny', mount: 'kv/x/', max_secrets: 10, max_depth: 100, queue_compaction_threshold: 1},
    ])
  })

  it('vault: kubernetes auth', () => {
    expect(parse('vault: {address: http://v, auth: {method: kubernetes, role: sync}}\n').vault?.auth).toEqual({
      method: 'kubernetes',
      role: 'sync',
    })
  })

  it('merge_store: prefix gets its trailing slash; SSE-KMS key kept', () => {
    const config = parse('merge_store: {bucket: my-store, prefix: merged, kms_key_id: alias/s, retain_versions: 5}\n')
    expect(config.merge_store).toEqual({
      enabled: true,
      type: 's3',
      bucket: 'my-store',
      prefix: 'merged/',
      kms_key_id: 'alias/s',
      retain_versions: 5,
      lock_ttl: 600_000,
      force_path_style: false,
    })
  })

  it('merge_store.lock_ttl: a duration (default 10m), at least 1s', () => {
    expect(parse('merge_store: {bucket: my-store, lock_ttl: 90s}\n').merge_store?.lock_ttl).toBe(90_000)
    expect(() => parse('merge_store: {bucket: my-store, lock_ttl: 500ms}\n')).toThrow(
      /merge_store\.lock_ttl: must be at least 1s/,
    )
    expect(() => parse('merge_store: {bucket: my-store, lock_ttl: soon}\n')).toThrow(
      /merge_store\.lock_ttl: expected a duration/,
    )
  })

  it('discovery: organizations and identity center blocks with their defaults', () => {
    const config = parse(`discovery:
  - name: org
    type: aws_organizations
    filters: [{tag: Env, values: ["prod*"]}, {ou: ou-ab12-cd34ef56}]
  - name: sso
    type: aws_identity_center
    permission_set: Admin
    match: any
    cache_ttl: 10m
`)
    expect(config.discovery[0]).toMatchObject({
      enabled: true,
      match: 'all',
      statuses: ['ACTIVE'],
      exclude_accounts: [],
      cache_ttl: 3_600_000,
      target: {name: '{{account_name}}', imports: []},
    })
    expect(config.discovery[1]).toMatchObject({
      type: 'aws_identity_center',
      permission_set: 'Admin',
      match: 'any',
      cache_ttl: 600_000,
    })
  })

  it('the complete example parses', async () => {
    const {readFile} = await import('node:fs/promises')
    const config = parse(await readFile('examples/secretsync.yaml', 'utf8'))
    expect(config.targets.map((t) => t.name)).toEqual(['production-us-east-1', 'staging-us-west-2'])
    expect(config.retry).toEqual({max_attempts: 5, base_delay: 200, max_delay: 20_000})
  })
})

describe('interpolation', () => {
  it('${VAR}, ${VAR:-default} (also for empty), $${VAR} escapes; numeric keys take numeric values', () => {
    const config = parse(
      `vault: {address: "\${ADDR}", auth: {method: token, token: "\${EMPTY:-fallback}"}, concurrency: \${CONC}}
aws: {region: \${REGION:-eu-west-1}, external_id: "$\${LITERAL}"}
`,
      {ADDR: 'http://vault:8200', EMPTY: '', CONC: '4'},
    )
    expect(config.vault).toMatchObject({address: 'http://vault:8200', concurrency: 4, auth: {token: 'fallback'}})
    expect(config.aws).toMatchObject({region: 'eu-west-1', external_id: '${LITERAL}'})
  })

  it('works inside flow collections, where ${ is not valid YAML on its own', () => {
    expect(
      parse('merge_store: {bucket: b-1, endpoint: ${URL}}\n', {URL: 'http://127.0.0.1:4566'}).merge_store?.endpoint,
    ).toBe('http://127.0.0.1:4566')
  })

  it('a variable in a comment is never required', () => {
    expect(() => parse('# token: ${NOT_SET}\nlogging: {level: warn}\n')).not.toThrow()
  })
})
