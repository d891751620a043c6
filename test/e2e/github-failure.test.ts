import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'

describe('pipeline -o github when the run ends on an error', () => {
  it('a config error still gets an ::error:: annotation and a step summary, besides the message on stderr', async () => {
    // Given a config with an unknown key, and the step files of a GitHub Actions job
    const config = await writeTempConfig('vault: {address: "https://vault.example", auth: {method: token}}\nbogus: 1\n')
    const dir = await mkdtemp(join(tmpdir(), 'secretsync-gh-fail-'))
    const summary = join(dir, 'summary.md')
    await writeFile(summary, '')

    // When the pipeline runs with the github output
    const result = await runCli(['pipeline', '-c', config, '-o', 'github'], {env: {GITHUB_STEP_SUMMARY: summary}})

    // Then
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toMatch(/^Error: Invalid config/)
    expect(result.stdout).toMatch(/^::error title=secretsync failed \(exit 2\)::CONFIG_INVALID: .*bogus/m)
    const markdown = await readFile(summary, 'utf8')
    expect(markdown).toContain('## secretsync failed (exit 2)')
    expect(markdown).toContain('`CONFIG_INVALID`')
  })
})
