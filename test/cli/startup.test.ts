import {execFile} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {Plugin} from '@oclif/core'
import {describe, expect, it} from 'vitest'
import {ROOT} from '../support/cli.js'

// What a start costs is decided by what it loads: the manifest spares importing every command, and the AWS SDK
// clients and node-vault are imported only by the code that talks to them.

const TRACE = join(ROOT, 'test', 'support', 'import-trace', 'register.mjs')

/** The bare packages one real CLI process imports (through the hooks in test/support/import-trace). */
async function packagesImportedBy(args: string[]): Promise<{packages: Set<string>; stdout: string}> {
  const {stdout, stderr} = await promisify(execFile)(
    process.execPath,
    ['--import', TRACE, join(ROOT, 'bin', 'run.js'), ...args],
    {cwd: ROOT},
  )
  const packages = new Set([...stderr.matchAll(/^import-trace: (.+)$/gm)].map((match) => match[1] as string))
  return {packages, stdout}
}

const heavy = (packages: Set<string>): string[] =>
  [...packages].filter((name) => /^@aws-sdk\/|^@smithy\/|^node-vault$|^opossum$|^prom-client$|^winston$/.test(name))

describe('start-up', () => {
  it('oclif.manifest.json is what the built commands declare (npm run build writes it; a stale one fails here)', async () => {
    const onDisk: unknown = JSON.parse(await readFile(join(ROOT, 'oclif.manifest.json'), 'utf8'))
    const plugin = new Plugin({
      root: ROOT,
      type: 'core',
      isRoot: true,
      ignoreManifest: true,
      errorOnManifestCreate: true,
    })
    await plugin.load()
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(plugin.manifest)))
    expect(Object.keys(plugin.manifest.commands).sort()).toEqual([
      'discover',
      'graph',
      'pipeline',
      'unlock',
      'validate',
      'version:list',
      'version:rollback',
      'version:show',
    ])
  })

  it('--version imports none of the dependencies but @oclif/core', async () => {
    const {dependencies} = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
    }
    const {packages, stdout} = await packagesImportedBy(['--version'])
    expect(stdout).toMatch(/^secretsync\/\d+\.\d+\.\d+ /)
    expect(packages.has('@oclif/core')).toBe(true)
    expect(Object.keys(dependencies).filter((name) => name !== '@oclif/core' && packages.has(name))).toEqual([])
  })

  it('validate (without --check-access) imports no AWS SDK client, node-vault, breaker, metrics or logger library', async () => {
    const {packages, stdout} = await packagesImportedBy(['validate', '-c', 'examples/secretsync.yaml'])
    expect(stdout).toContain('examples/secretsync.yaml: valid')
    expect(packages.has('zod')).toBe(true)
    expect(heavy(packages)).toEqual([])
  })
})
