/**
 * `npm run sandbox`: starts the in-process Vault and AWS test servers on fixed local ports, seeds
 * examples/sandbox/fixture.yaml and prints the environment to use them.
 *
 *   npm run sandbox                         keep running until Ctrl-C
 *   npm run sandbox -- pipeline --dry-run   run one secretsync command against it, then stop
 */
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {ROOT} from './cli.js'
import {loadFixture} from './fixture.js'
import {startTestStack} from './stack.js'

const VAULT_PORT = Number(process.env.SANDBOX_VAULT_PORT ?? 18200)
const AWS_PORT = Number(process.env.SANDBOX_AWS_PORT ?? 14566)
const CONFIG = join(ROOT, 'examples', 'sandbox', 'secretsync.yaml')

const fixture = await loadFixture(join(ROOT, 'examples', 'sandbox', 'fixture.yaml'))
const stack = await startTestStack(fixture, {vaultPort: VAULT_PORT, awsPort: AWS_PORT})
const approle = stack.credentials.approles.secretsync
const env: Record<string, string> = {
  ...stack.env,
  ...(approle ? {VAULT_ROLE_ID: approle.roleId, VAULT_SECRET_ID: approle.secretId} : {}),
  SECRETSYNC_CONFIG: CONFIG,
}

const args = process.argv.slice(2)
if (args.length === 0) {
  process.stdout.write(`secretsync sandbox: Vault on ${stack.vault.url}, AWS on ${stack.aws.url}\n\n`)
  for (const [key, value] of Object.entries(env)) process.stdout.write(`export ${key}=${value}\n`)
  process.stdout.write(`\nThen: ./bin/run.js pipeline --dry-run\nCtrl-C stops the sandbox.\n`)
  // Closing the servers ends the last handles, so the process exits by itself.
  const stop = (): void => {
    void stack.close()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
} else {
  process.stderr.write(
    `secretsync sandbox: running \`secretsync ${args.join(' ')}\` against ${stack.vault.url} and ${stack.aws.url}\n`,
  )
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], {
    stdio: 'inherit',
    env: {...process.env, ...env},
  })
  const code = await new Promise<number>((resolve) => child.on('exit', (status) => resolve(status ?? 1)))
  await stack.close()
  process.exitCode = code
}
