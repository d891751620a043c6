/**
 * The config of the merge-store scenarios: one Vault source (`source` under `secret/<source>/`, up to `secrets`
 * secrets), the bench's merge store and AWS endpoint, the given target lines, then `tail` (sync, retry...).
 */
export function benchConfig(source: string, secrets: number, targetLines: readonly string[], tail = ''): string {
  return `vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
  concurrency: 32
vault_sources:
  - {name: ${source}, mount: secret/${source}/, max_secrets: ${secrets + 1}}
merge_store:
  bucket: bench-store
  endpoint: \${AWS_ENDPOINT_URL}
aws:
  region: us-east-1
  endpoint: \${AWS_ENDPOINT_URL}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
targets:
${targetLines.join('')}${tail}`
}

/**
 * The one config of the fan-out scenarios (targets-fanout, steady-state): `targets` targets, each in its own
 * account, each importing the one source of `secrets` secrets with overrides of its own.
 */
export function fanoutConfig(targets: number, secrets: number, sync = '{concurrency: 16}'): string {
  const lines = Array.from({length: targets}, (_, i) => {
    const name = `t${String(i).padStart(4, '0')}`
    const account = String(100000000000 + i)
    return `  - {name: ${name}, account_id: "${account}", imports: [fan], overrides: {env: ${name}, region_tag: r${i % 7}}}\n`
  })
  return benchConfig(
    'fan',
    secrets,
    lines,
    `sync: ${sync}
retry: {max_attempts: 8, base_delay: 100ms, max_delay: 5s}
`,
  )
}
