import {mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {pipelineConfigText} from '../support/e2e.js'
import {jwtSigningKey, signJwt, startOidcTokenServer, type OidcTokenServer} from '../support/github-oidc.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Vault auth the way CI and cloud workloads do it: JWT (a file, or GitHub Actions' OIDC token) and AWS IAM,
// end to end through the CLI against the test Vault, which verifies what it is sent as Vault does.

const ACCOUNT = '111111111111'
/** The account whose credentials the CLI runs with (the test AWS server's base account owns the merge store). */
const WORKLOAD_ACCOUNT = '000000000000'
const ISSUER = 'https://token.actions.githubusercontent.com'
const policies = [
  {path: 'secret/metadata/*', capabilities: ['list' as const, 'read' as const]},
  {path: 'secret/data/*', capabilities: ['read' as const]},
]
const key = jwtSigningKey()
let stack: TestStack
let oidc: OidcTokenServer

beforeAll(async () => {
  stack = await startTestStack({vault: {secrets: {'secret/base/db': {v: 'seed'}}}, aws: {buckets: ['merge-store']}})
  stack.vault.configureJwtAuth({publicKeys: [key.publicKeyPem], boundIssuer: ISSUER})
  stack.vault.addJwtRole('ci', {
    policies,
    boundAudiences: ['https://github.com/acme', 'vault.example.com'],
    boundClaims: {repository: 'acme/infra'},
    userClaim: 'repository',
  })
  stack.vault.configureAwsAuth({stsEndpoint: stack.aws.url, iamServerIdHeaderValue: 'vault.example.com'})
  stack.vault.addAwsRole('eks', {
    policies,
    boundIamPrincipalArns: [`arn:aws:iam::${WORKLOAD_ACCOUNT}:role/eks-secretsync`],
  })
  oidc = await startOidcTokenServer({privateKey: key.privateKey, issuer: ISSUER, owner: 'acme'})
})
afterAll(async () => {
  await Promise.all([stack.close(), oidc.close()])
})

let marker = ''
beforeEach(({task}) => {
  // A fresh value per story: the sync can only have it from a Vault read made with the login under test.
  marker = `${task.name.slice(0, 20)}-${Date.now()}`
  stack.vault.putSecret('secret/', 'base/db', {v: marker})
  stack.controls.resetCounters()
})

/** The usual e2e config with this `vault.auth` (and extra lines in the vault section). */
const configWithAuth = (auth: string, vaultLines = '') =>
  writeTempConfig(
    pipelineConfigText({
      targets: `  - {name: app, account_id: "${ACCOUNT}", imports: [base]}\n`,
      extra: 'logging: {level: warn}\n',
    }).replace('  auth: {method: token}\n', `  auth: ${auth}\n${vaultLines}`),
  )

async function pipeline(auth: string, env: Record<string, string | undefined> = {}, vaultLines = '') {
  const file = await configWithAuth(auth, vaultLines)
  // No VAULT_TOKEN: the login under test is the only way in.
  return runCli(['pipeline', '-c', file, '-o', 'compact'], {env: {...stack.env, VAULT_TOKEN: undefined, ...env}})
}

const syncedValue = () => stack.aws.secretsManager.getSecret(ACCOUNT, 'us-east-1', 'db')?.value

const githubJwt = (claims: Record<string, unknown> = {}, nowMs?: number) =>
  signJwt(
    key.privateKey,
    {
      iss: ISSUER,
      aud: 'https://github.com/acme',
      sub: 'repo:acme/infra:ref:refs/heads/main',
      repository: 'acme/infra',
      ...claims,
    },
    nowMs,
  )

/** What the user sees of a run, with the JSON log lines' escaped quotes read as quotes. */
const shown = (result: {stdout: string; stderr: string}) => (result.stderr + result.stdout).replaceAll('\\"', '"')

async function jwtFile(jwt: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'secretsync-jwt-')), 'token')
  await writeFile(file, `${jwt}\n`)
  return file
}

describe('vault.auth.method jwt', () => {
  it('logs in with the JWT in jwt_path (a projected service-account token) and syncs', async () => {
    const file = await jwtFile(githubJwt())
    const {code, stderr} = await pipeline(`{method: jwt, role: ci, jwt_path: "${file}"}`)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stack.controls.count({service: 'vault', operation: 'login-jwt'})).toBe(1)
    expect(syncedValue()).toBe(JSON.stringify({v: marker}))
  })

  it('logs in with a JWT given as a value (${VAR}) at a custom mount', async () => {
    stack.vault.configureJwtAuth({publicKeys: [key.publicKeyPem], boundIssuer: ISSUER, mount: 'gitlab'})
    stack.vault.addJwtRole('ci', {policies, boundAudiences: ['https://github.com/acme'], mount: 'gitlab'})
    const {code} = await pipeline('{method: jwt, role: ci, mount: gitlab, jwt: "${CI_JOB_JWT}"}', {
      CI_JOB_JWT: githubJwt(),
    })
    expect(code).toBe(0)
    expect(syncedValue()).toBe(JSON.stringify({v: marker}))
  })

  it("without jwt or jwt_path, in a GitHub Actions job, requests the job's OIDC token (GitHub's default audience)", async () => {
    oidc.audiences.length = 0
    const {code, stderr} = await pipeline('{method: jwt, role: ci}', {
      ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken,
    })
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(oidc.audiences).toEqual([null])
    expect(syncedValue()).toBe(JSON.stringify({v: marker}))
  })

  it('asks GitHub for the configured audience', async () => {
    oidc.audiences.length = 0
    const {code} = await pipeline('{method: jwt, role: ci, audience: vault.example.com}', {
      ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken,
    })
    expect(code).toBe(0)
    expect(oidc.audiences).toEqual(['vault.example.com'])
  })

  it('outside a job with id-token permission, says what is missing', async () => {
    const result = await pipeline('{method: jwt, role: ci}')
    expect(result.code).toBe(1)
    expect(shown(result)).toContain(
      'method jwt needs jwt or jwt_path, or a GitHub Actions job with permissions: id-token: write',
    )
  })

  it('a role that does not exist fails the run naming the method and mount, never the token', async () => {
    const jwt = githubJwt()
    const {code, stderr, stdout} = await pipeline('{method: jwt, role: nope, jwt: "${JWT}"}', {JWT: jwt})
    expect(code).toBe(1)
    expect(shown({stdout, stderr})).toContain('Vault jwt login at auth/jwt')
    expect(shown({stdout, stderr})).toContain('role "nope" could not be found')
    expect(stderr + stdout).not.toContain(jwt.split('.')[2])
    expect(stack.controls.count({service: 'secretsmanager'})).toBe(0)
  })

  it("an expired JWT is refused with Vault's reason, and the token is never printed", async () => {
    const jwt = githubJwt({}, Date.now() - 2 * 3600_000)
    const file = await jwtFile(jwt)
    const {code, stderr, stdout} = await pipeline(`{method: jwt, role: ci, jwt_path: "${file}"}`)
    expect(code).toBe(1)
    expect(shown({stdout, stderr})).toContain('Vault jwt login at auth/jwt')
    expect(shown({stdout, stderr})).toContain('token is expired')
    expect(stderr + stdout).not.toContain(jwt.split('.')[2])
  })

  it('a JWT whose claims do not match the role is refused (bound claims), and one signed by another key too', async () => {
    const wrongRepo = await pipeline('{method: jwt, role: ci, jwt: "${JWT}"}', {
      JWT: githubJwt({repository: 'acme/other'}),
    })
    expect(wrongRepo.code).toBe(1)
    expect(shown(wrongRepo)).toContain('claim "repository" does not match any associated bound claim values')
    const forged = signJwt(jwtSigningKey().privateKey, {
      iss: ISSUER,
      aud: 'https://github.com/acme',
      repository: 'acme/infra',
    })
    const forgedRun = await pipeline('{method: jwt, role: ci, jwt: "${JWT}"}', {JWT: forged})
    expect(forgedRun.code).toBe(1)
    expect(shown(forgedRun)).toContain('no known key successfully validated the token signature')
  })
})

describe('vault.auth.method aws (IAM)', () => {
  /** Credentials of an assumed role, as an EKS pod (IRSA) or an ECS task has them in its environment. */
  const workloadCredentials = (role = 'eks-secretsync') => {
    const issued = stack.aws.credentials.issue({
      accountId: WORKLOAD_ACCOUNT,
      arn: `arn:aws:sts::${WORKLOAD_ACCOUNT}:assumed-role/${role}/pod-1`,
      userId: 'AROAEXAMPLEROLEID:pod-1',
    })
    return {
      AWS_ACCESS_KEY_ID: issued.accessKeyId,
      AWS_SECRET_ACCESS_KEY: issued.secretAccessKey,
      AWS_SESSION_TOKEN: issued.sessionToken ?? '',
    }
  }

  it('logs in with a signed sts:GetCallerIdentity from the default credential chain and syncs', async () => {
    const {code, stderr} = await pipeline(
      '{method: aws, role: eks, header_value: vault.example.com}',
      workloadCredentials(),
    )
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stack.controls.count({service: 'vault', operation: 'login-aws'})).toBe(1)
    expect(syncedValue()).toBe(JSON.stringify({v: marker}))
  })

  it('without the server id header the mount requires, Vault refuses the login', async () => {
    const {code, stderr, stdout} = await pipeline('{method: aws, role: eks}', workloadCredentials())
    expect(code).toBe(1)
    expect(shown({stdout, stderr})).toContain('Vault aws login at auth/aws')
    expect(shown({stdout, stderr})).toContain('error validating X-Vault-AWS-IAM-Server-ID header: missing header')
  })

  it('a principal the role does not bind is refused, and no credential is printed', async () => {
    const credentials = workloadCredentials('someone-else')
    const {code, stderr, stdout} = await pipeline(
      '{method: aws, role: eks, header_value: vault.example.com}',
      credentials,
    )
    expect(code).toBe(1)
    expect(shown({stdout, stderr})).toContain(
      `IAM Principal "arn:aws:sts::${WORKLOAD_ACCOUNT}:assumed-role/someone-else/pod-1" does not belong to the role "eks"`,
    )
    expect(stderr + stdout).not.toContain(credentials.AWS_SECRET_ACCESS_KEY)
    expect(stderr + stdout).not.toContain(credentials.AWS_SESSION_TOKEN)
  })

  it('signed for a regional STS endpoint the mount is not configured for, STS (via Vault) refuses it', async () => {
    const {code, stderr, stdout} = await pipeline(
      '{method: aws, role: eks, header_value: vault.example.com, region: eu-west-1}',
      workloadCredentials(),
    )
    expect(code).toBe(1)
    expect(shown({stdout, stderr})).toContain('SignatureDoesNotMatch')
  })
})

describe('VAULT_NAMESPACE and vault.namespace', () => {
  beforeAll(() => {
    stack.vault.mountKv('secret/', {namespace: 'team-a'})
    stack.vault.putSecret('secret/', 'base/db', {v: 'from team-a'}, {namespace: 'team-a'})
  })

  it('VAULT_NAMESPACE is the default namespace, sent as X-Vault-Namespace', async () => {
    const {code} = await pipeline('{method: token}', {VAULT_TOKEN: stack.vault.rootToken, VAULT_NAMESPACE: 'team-a'})
    expect(code).toBe(0)
    expect(syncedValue()).toBe(JSON.stringify({v: 'from team-a'}))
  })

  it('vault.namespace, when set (even to ""), wins over VAULT_NAMESPACE, as the vault CLI flag does', async () => {
    const {code} = await pipeline(
      '{method: token}',
      {VAULT_TOKEN: stack.vault.rootToken, VAULT_NAMESPACE: 'team-a'},
      '  namespace: ""\n',
    )
    expect(code).toBe(0)
    expect(syncedValue()).toBe(JSON.stringify({v: marker}))
  })
})
