import {z} from 'zod'
import {globProblem} from '../merge/select-paths.js'
import {keySpaceProblem} from '../util/key-space.js'
import {parseDuration} from './duration.js'

/**
 * The config contract of docs/design.md §3 as one zod schema: types are inferred from it, defaults live in it,
 * and every object is strict so unknown keys are errors. Messages never echo values (they may be secrets),
 * except for enumerations, whose values are not.
 */

const duration = z.string({error: 'expected a duration like 500ms, 30s, 10m or 1h'}).transform((text, ctx) => {
  const ms = parseDuration(text)
  if (ms === undefined) {
    ctx.addIssue({code: 'custom', message: 'expected a duration like 500ms, 30s, 10m or 1h', params: {got: text}})
    return z.NEVER
  }
  return ms
})

// Interpolated values are strings (they are never parsed as YAML); a numeric or boolean key takes a string that
// is exactly such a literal, the way `port: ${PORT}` is meant. Nothing else is coerced.
const DECIMAL = /^-?(0|[1-9]\d*)(\.\d+)?$/
const BOOLEAN: Record<string, boolean> = {true: true, True: true, TRUE: true, false: false, False: false, FALSE: false}
const fromNumeral = (value: unknown): unknown =>
  typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value
const fromBooleanWord = (value: unknown): unknown =>
  typeof value === 'string' && value in BOOLEAN ? BOOLEAN[value] : value
const boolean = () => z.preprocess(fromBooleanWord, z.boolean({error: 'expected true or false'}))

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(
    fromNumeral,
    z
      .number({error: 'expected a whole number'})
      .int({error: 'expected a whole number'})
      .min(min, {error: `must be at least ${min}`})
      .max(max, {error: `must be at most ${max}`}),
  )

const nonEmpty = z.string({error: 'expected a string'}).min(1, {error: 'must not be empty'})

export const ACCOUNT_ID = /^\d{12}$/
const accountId = z
  .string({
    error:
      'expected a 12-digit AWS account id in quotes, e.g. "123456789012" (unquoted, YAML reads it as a number and drops leading zeros)',
  })
  .regex(ACCOUNT_ID, {error: 'expected a 12-digit AWS account id, e.g. "123456789012"'})

export const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/
const region = z
  .string({error: 'expected an AWS region such as us-east-1'})
  .regex(REGION, {error: 'expected an AWS region such as us-east-1 or eu-west-2'})

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/
const roleArn = z
  .string({error: 'expected an IAM role ARN'})
  .regex(ROLE_ARN, {error: 'expected an IAM role ARN like arn:aws:iam::123456789012:role/SecretSync'})

// Templates are checked once rendered; here only their shape: an ARN whose account may be `{{account_id}}`.
const ROLE_ARN_TEMPLATE = /^arn:aws[a-z-]*:iam::(\d{12}|\{\{account_id\}\}):role\/[\w+=,.@/{}-]{1,512}$/
const roleArnTemplate = z.string({error: 'expected an IAM role ARN pattern'}).regex(ROLE_ARN_TEMPLATE, {
  error: 'expected an IAM role ARN pattern like arn:aws:iam::{{account_id}}:role/SecretSync',
})

const url = z
  .string({error: 'expected a URL'})
  .regex(/^https?:\/\/[^\s/]+/, {error: 'expected an http:// or https:// URL'})

export const NAME = /^[A-Za-z0-9_.-]+$/
// A name is a folder of the merge store ({prefix}{target}/), so "." and ".." would step outside it.
const name = (what: string) =>
  z
    .string({error: `expected a ${what} name`})
    .regex(NAME, {error: `${what} names may use only letters, digits, "_", "." and "-"`})
    .refine((text) => text !== '.' && text !== '..', {error: `${what} names must not be "." or ".."`})

/** A refinement for prefixes: every segment a real name (see util/key-space.ts). */
const inKeySpace = (options: {leadingSlash?: boolean}) => (prefix: string, ctx: z.core.$RefinementCtx<string>) => {
  const problem = keySpaceProblem(prefix, {...options, trailingSlash: true})
  if (problem !== undefined) ctx.addIssue({code: 'custom', message: problem})
}

// Kept as parsed, not rebuilt, like jsonObject below: z.record would drop a `__proto__` key (a tag AWS accepts).
const stringMap = z
  .custom<Record<string, string>>((value) => value !== null && typeof value === 'object' && !Array.isArray(value), {
    error: 'expected a map of strings',
  })
  .superRefine((value, ctx) => {
    for (const [key, item] of Object.entries(value))
      if (typeof item !== 'string') ctx.addIssue({code: 'custom', message: 'expected a string value', path: [key]})
  })
const hasNonFiniteNumber = (value: unknown): boolean =>
  typeof value === 'number'
    ? !Number.isFinite(value)
    : value !== null && typeof value === 'object' && Object.values(value).some(hasNonFiniteNumber)

// Kept as parsed, not rebuilt: z.record assigns each key into a new {}, which drops `__proto__` (and sets the
// prototype instead), and override keys are secret data like any other.
const jsonObject = z
  .custom<Record<string, unknown>>((value) => value !== null && typeof value === 'object' && !Array.isArray(value), {
    error: 'expected a map',
  })
  .refine((value) => !hasNonFiniteNumber(value), {
    error: 'JSON has no .inf or .nan: secret values must be finite numbers',
  })
const kmsKeyId = nonEmpty

// Which auth keys each method takes, and which of them it needs (docs/design.md §3; README "Vault auth").
const AUTH_KEYS = {
  token: {allowed: ['token'], required: []},
  approle: {allowed: ['role_id', 'secret_id', 'mount'], required: ['role_id', 'secret_id']},
  kubernetes: {allowed: ['role', 'mount', 'jwt_path'], required: ['role']},
  jwt: {allowed: ['role', 'mount', 'jwt_path', 'jwt', 'audience'], required: ['role']},
  aws: {allowed: ['role', 'mount', 'header_value', 'region'], required: ['role']},
} as const
const AUTH_FIELDS = [
  'token',
  'role_id',
  'secret_id',
  'role',
  'mount',
  'jwt_path',
  'jwt',
  'audience',
  'header_value',
  'region',
] as const

const vault = z
  .strictObject({
    address: url,
    // Unset: $VAULT_NAMESPACE; set (even to ""): this, as the vault CLI's -namespace flag wins over the variable.
    namespace: z.string().optional(),
    auth: z
      .strictObject({
        method: z.enum(['token', 'approle', 'kubernetes', 'jwt', 'aws']).default('token'),
        token: z.string().optional(),
        role_id: z.string().optional(),
        secret_id: z.string().optional(),
        role: z.string().optional(),
        mount: nonEmpty.optional(),
        jwt_path: nonEmpty.optional(),
        jwt: nonEmpty.optional(),
        audience: nonEmpty.optional(),
        header_value: nonEmpty.optional(),
        region: region.optional(),
      })
      .superRefine((auth, ctx) => {
        const keys = AUTH_KEYS[auth.method]
        for (const key of keys.required) {
          if (auth[key] === undefined) {
            ctx.addIssue({code: 'custom', path: [key], message: `required for auth method ${auth.method}`})
          }
        }
        for (const key of AUTH_FIELDS) {
          if (auth[key] !== undefined && !(keys.allowed as readonly string[]).includes(key)) {
            ctx.addIssue({code: 'custom', path: [key], message: `does not apply to auth method ${auth.method}`})
          }
        }
        if (auth.method === 'jwt' && auth.jwt !== undefined && auth.jwt_path !== undefined) {
          ctx.addIssue({code: 'custom', path: ['jwt'], message: 'set jwt or jwt_path, not both'})
        }
      })
      .prefault({method: 'token'}),
    /** Deprecated spelling of tls.ca_cert, kept working. */
    ca_cert: nonEmpty.optional(),
    tls: z
      .strictObject({
        // A PEM file (bundle) of the CA that signed Vault's certificate; wins over $VAULT_CACERT and $VAULT_CAPATH.
        ca_cert: nonEmpty.optional(),
      })
      .optional(),
    concurrency: int(1, 256).default(16),
    /** Requests per second at most (a Vault rate-limit quota's rate); unset: unpaced until Vault answers 429. */
    request_rate: z
      .preprocess(
        fromNumeral,
        z.number({error: 'expected a number of requests per second'}).positive({error: 'must be above 0'}),
      )
      .optional(),
    timeout: duration.prefault('30s'),
  })
  .superRefine((block, ctx) => {
    if (block.ca_cert !== undefined && block.tls?.ca_cert !== undefined) {
      ctx.addIssue({code: 'custom', path: ['ca_cert'], message: 'set tls.ca_cert or ca_cert (its old name), not both'})
    }
  })

const vaultSource = z
  .strictObject({
    name: name('source').optional(),
    // A "." segment would also name the source "." (its default name is the last segment).
    mount: nonEmpty.refine((mount) => !/(^|\/)\.\.?(\/|$)|\/\/|^\/|\0/.test(mount), {
      error: 'must be a Vault path without "..", ".", "//", NUL or a leading "/"',
    }),
    max_secrets: int(1).default(100_000),
    max_depth: int(1).default(100),
    queue_compaction_threshold: int(1).optional(),
  })
  .transform((source) => {
    const mount = source.mount.endsWith('/') ? source.mount : `${source.mount}/`
    const segments = mount.split('/').filter(Boolean)
    return {
      ...source,
      mount,
      name: source.name ?? segments.at(-1) ?? mount,
      // docs/design.md §4: default min(1000, max(1, max_secrets / 100)).
      queue_compaction_threshold:
        source.queue_compaction_threshold ?? Math.min(1000, Math.max(1, Math.floor(source.max_secrets / 100))),
    }
  })

const S3_BUCKET = /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const mergeStore = z.strictObject({
  enabled: boolean().default(true),
  type: z.literal('s3', {error: 'the only merge store type is s3'}).default('s3'),
  bucket: z
    .string({error: 'expected an S3 bucket name'})
    .regex(S3_BUCKET, {error: 'expected an S3 bucket name: 3-63 lowercase letters, digits, "." or "-"'}),
  prefix: z
    .string()
    .default('')
    .refine((prefix) => !prefix.startsWith('/'), {error: 'must not start with "/"'})
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    .refine((prefix) => !/[\u0000-\u001f\u007f-\u009f]/.test(prefix), {error: 'must not contain control characters'})
    // A leading "/" is reported just above.
    .superRefine(inKeySpace({leadingSlash: true}))
    .transform((prefix) => (prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`)),
  region: region.optional(),
  kms_key_id: kmsKeyId.optional(),
  retain_versions: int(1).default(20),
  // Run locks live beside the snapshots and are renewed every third of this while held (README "Locks").
  lock_ttl: duration.pipe(z.number().min(1000, {error: 'must be at least 1s'})).prefault('10m'),
  endpoint: url.optional(),
  force_path_style: boolean().default(false),
})

const aws = z.strictObject({
  region: region.optional(),
  role_pattern: roleArnTemplate.optional(),
  external_id: z.string().default(''),
  endpoint: url.optional(),
  timeout: duration.prefault('30s'),
})

// AWS Secrets Manager name characters (docs/design.md §4); the full name is checked per secret.
export const SECRET_NAME_CHARS = /^[A-Za-z0-9/_+=.@-]*$/

// A glob on relative secret paths (merge/select-paths.ts): `*` within a segment, `**` as a whole segment.
const pathGlob = nonEmpty.superRefine((glob, ctx) => {
  const problem = globProblem(glob)
  if (problem !== undefined) ctx.addIssue({code: 'custom', message: problem})
})
const importEntry = z.union(
  [
    nonEmpty,
    z.strictObject({
      name: nonEmpty,
      include: z.array(pathGlob, {error: 'expected a list of path globs'}).optional(),
      exclude: z.array(pathGlob, {error: 'expected a list of path globs'}).default([]),
    }),
  ],
  {error: 'expected a source or target name, or {name, include, exclude}'},
)
/** `imports` as names (what the graph reads) plus the path selections of the entries that have one. */
const imports = z
  .array(importEntry, {error: 'expected a list of source or target names'})
  .default([])
  .transform((entries) => ({
    names: entries.map((entry) => (typeof entry === 'string' ? entry : entry.name)),
    selections: entries.flatMap((entry) =>
      typeof entry === 'string' || (entry.include === undefined && entry.exclude.length === 0)
        ? []
        : [
            {
              name: entry.name,
              ...(entry.include === undefined ? {} : {include: entry.include}),
              exclude: entry.exclude,
            },
          ],
    ),
  }))

/** README "Replica regions": where Secrets Manager keeps read-only copies of each secret (replicas follow the primary). */
const replicaRegions = z
  .array(z.strictObject({region, kms_key_id: kmsKeyId.optional()}), {
    error: 'expected a list of {region, kms_key_id?} entries',
  })
  // The regions are recorded in one tag value (256 characters): 16 of the longest region names fit.
  .max(16, {error: 'at most 16 replica regions'})
  .superRefine((entries, ctx) => {
    const seen = new Map<string, number>()
    entries.forEach((entry, index) => {
      const first = seen.get(entry.region)
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [index, 'region'],
          message: `duplicate replica region ${entry.region} (also replica_regions[${first}])`,
        })
      else seen.set(entry.region, index)
    })
  })

const targetBody = {
  region: region.optional(),
  imports,
  overrides: jsonObject.default({}),
  secret_prefix: z
    .string()
    .default('')
    .refine((prefix) => SECRET_NAME_CHARS.test(prefix), {error: 'may use only A-Z a-z 0-9 / _ + = . @ -'})
    .refine((prefix) => prefix.length <= 256, {error: 'must be at most 256 characters'})
    .superRefine(inKeySpace({leadingSlash: true})),
  tags: stringMap.default({}),
  kms_key_id: kmsKeyId.optional(),
  external_id: z.string().optional(),
  // Parsed and checked against the target by config/name-templates.ts (the checks span keys).
  name_template: nonEmpty.optional(),
  // Optional in the output (undefined: path / json), so a target built in code needs neither.
  granularity: z.enum(['path', 'key']).optional(),
  format: z.enum(['json', 'raw', 'binary']).optional(),
  rotation: z.enum(['skip', 'overwrite']).optional(),
  // Checked against the target's own region by config/replica-regions.ts (the region may come from aws.region).
  replica_regions: replicaRegions.optional(),
  // A file (relative to the config file), inline JSON text, or a mapping; config/resource-policies.ts reads the
  // file and checks the document, so after loading it is always the document.
  resource_policy: z
    .union([nonEmpty, jsonObject], {error: 'expected a policy file path, inline JSON, or a mapping'})
    .optional(),
}

/** `imports` written as names or `{name, include, exclude}`: the names stay `imports`, selections go beside them. */
const flattenImports = <T extends {imports: {names: string[]; selections: ImportSelection[]}}>(
  body: T,
): Omit<T, 'imports'> & {imports: string[]; import_selections?: ImportSelection[]} => {
  const {imports: written, ...rest} = body
  return {
    ...rest,
    imports: written.names,
    ...(written.selections.length > 0 ? {import_selections: written.selections} : {}),
  }
}
export interface ImportSelection {
  name: string
  include?: string[]
  exclude: string[]
}

const target = z
  .strictObject({
    name: name('target'),
    type: z
      .literal('aws_secretsmanager', {error: 'the only target type is aws_secretsmanager'})
      .default('aws_secretsmanager'),
    account_id: accountId.optional(),
    // For {{account_name}} in name_template; discovery sets it to the account's name.
    account_name: nonEmpty.optional(),
    role_arn: roleArn.optional(),
    ...targetBody,
  })
  .transform(flattenImports)

const WILDCARD = /^[^[\]{}\\]+$/
const tagFilter = z.strictObject({
  tag: z.string({error: 'expected a tag key'}).min(1).max(128, {error: 'tag keys are at most 128 characters'}),
  values: z
    .array(
      z
        .string()
        .regex(WILDCARD, {error: 'tag values may use only * and ? as wildcards (no [, ], {, } or \\)'})
        .max(256),
      {
        error: 'expected a list of tag values',
      },
    )
    .min(1, {error: 'needs at least one value'}),
})
const ouFilter = z.strictObject({
  ou: z.string({error: 'expected an OU or root id'}).regex(/^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/, {
    error: 'expected an OU id like ou-ab12-cd34ef56 or a root id like r-ab12',
  }),
})

const discovery = z
  .strictObject({
    name: name('discovery'),
    enabled: boolean().default(true),
    type: z.enum(['aws_organizations', 'aws_identity_center']),
    role_arn: roleArn.optional(),
    region: region.optional(),
    filters: z
      .array(z.union([tagFilter, ouFilter], {error: 'expected a filter with either tag+values or ou'}))
      .default([]),
    match: z.enum(['all', 'any']).default('all'),
    statuses: z.array(z.enum(['ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE', 'CLOSED'])).default(['ACTIVE']),
    exclude_accounts: z.array(accountId).default([]),
    instance_arn: nonEmpty.optional(),
    permission_set: nonEmpty.optional(),
    group: nonEmpty.optional(),
    cache_ttl: duration.prefault('1h'),
    target: z
      .strictObject({
        name: nonEmpty.default('{{account_name}}'),
        role_arn: roleArnTemplate.optional(),
        ...targetBody,
      })
      .transform(flattenImports)
      .prefault({}),
  })
  .superRefine((block, ctx) => {
    if (block.type === 'aws_identity_center' && !block.permission_set && !block.group) {
      ctx.addIssue({code: 'custom', path: ['type'], message: 'aws_identity_center needs permission_set or group'})
    }
    if (block.type === 'aws_organizations') {
      for (const key of ['permission_set', 'group', 'instance_arn'] as const) {
        if (block[key] !== undefined) {
          ctx.addIssue({code: 'custom', path: [key], message: 'applies only to type aws_identity_center'})
        }
      }
    }
  })

const sync = z.strictObject({
  concurrency: int(1, 256).default(8),
  write_rate: z
    .preprocess(
      fromNumeral,
      z
        .number({error: 'expected a number of writes per second'})
        .positive({error: 'must be above 0'})
        .max(1000, {error: 'must be at most 1000'}),
    )
    .default(40),
  /** How long one call may keep being throttled before its secret fails; until then it waits and is retried. */
  throttle_deadline: duration.pipe(z.number().min(1000, {error: 'must be at least 1s'})).prefault('15m'),
  delete_orphans: boolean().default(false),
  recovery_window_days: int(7, 30).default(30),
  force_delete: boolean().default(false),
  max_deletions: int(0).default(25),
  ownership_tag: z
    .strictObject({key: nonEmpty.max(128), value: z.string().max(256)})
    .default({key: 'managed-by', value: 'secretsync'}),
  adopt: boolean().default(false),
})

const circuitBreaker = z.strictObject({
  enabled: boolean().default(true),
  failure_threshold: int(1).default(5),
  window: duration.prefault('10s'),
  timeout: duration.prefault('30s'),
  max_requests: int(1).default(1),
})

const retry = z
  .strictObject({
    max_attempts: int(1, 20).default(5),
    base_delay: duration.prefault('200ms'),
    max_delay: duration.prefault('20s'),
  })
  .refine((r) => r.base_delay <= r.max_delay, {error: 'base_delay must not exceed max_delay', path: ['base_delay']})

const metrics = z.strictObject({
  enabled: boolean().default(false),
  port: int(1, 65_535).default(9090),
  path: z.string().regex(/^\//, {error: 'must start with "/"'}).default('/metrics'),
  pushgateway: z.union([z.literal(''), url]).default(''),
  job: nonEmpty.default('secretsync'),
})

const logging = z.strictObject({
  level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  format: z.enum(['json', 'text']).default('json'),
})

export const configSchema = z.strictObject({
  // Plain http:// to a host that is not loopback (README "Secrets travel only over TLS"): off unless set on purpose.
  allow_insecure_http: boolean().default(false),
  vault: vault.optional(),
  vault_sources: z.array(vaultSource).default([]),
  merge: z.strictObject({lists: z.enum(['append', 'append_unique', 'replace']).default('append')}).prefault({}),
  merge_store: mergeStore.optional(),
  aws: aws.prefault({}),
  targets: z.array(target).default([]),
  discovery: z.array(discovery).default([]),
  sync: sync.prefault({}),
  circuit_breaker: circuitBreaker.prefault({}),
  retry: retry.prefault({}),
  metrics: metrics.prefault({}),
  logging: logging.prefault({}),
})

export type Config = z.output<typeof configSchema>
export type VaultConfig = NonNullable<Config['vault']>
export type VaultSourceConfig = Config['vault_sources'][number]
export type MergeStoreConfig = NonNullable<Config['merge_store']>
export type TargetConfig = Config['targets'][number]
export type DiscoveryConfig = Config['discovery'][number]
export type SyncConfig = Config['sync']
export type ListMergeMode = Config['merge']['lists']
