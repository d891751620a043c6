import {describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'

const config = `vault:
  address: http://127.0.0.1:8200
  auth: {method: token, token: root}
vault_sources:
  - {name: base, mount: secret/base/}
aws: {region: us-east-1}
targets:
  - {name: core, imports: [base]}
  - {name: app.v2, imports: [core]}
`

describe('secretsync graph', () => {
  it('text: levels with each target and what it imports', async () => {
    const {code, stdout} = await runCli(['graph', '-c', await writeTempConfig(config)])
    expect(code).toBe(0)
    expect(stdout).toBe('sources: base\nlevel 0:\n  core <- base\nlevel 1:\n  app.v2 <- core\n')
  })

  it('dot: a digraph with a cluster per level and an edge per import', async () => {
    const {code, stdout} = await runCli(['graph', '-c', await writeTempConfig(config), '--format', 'dot'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^digraph secretsync \{/)
    expect(stdout).toContain('"source:base" -> "target:core";')
    expect(stdout).toContain('"target:core" -> "target:app.v2";')
    expect(stdout).toContain('label="level 1";')
  })

  it('mermaid: node ids are safe words, labels keep the names', async () => {
    const {code, stdout} = await runCli(['graph', '-c', await writeTempConfig(config), '--format', 'mermaid'])
    expect(code).toBe(0)
    expect(stdout).toContain('graph LR')
    expect(stdout).toContain('t_app_2e_v2["app.v2"]')
    expect(stdout).toContain('t_core --> t_app_2e_v2')
  })

  it('--json: levels as data', async () => {
    const {code, stdout} = await runCli(['graph', '-c', await writeTempConfig(config), '--json'])
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toEqual({
      sources: ['base'],
      levels: [[{name: 'core', imports: ['base']}], [{name: 'app.v2', imports: ['core']}]],
    })
  })

  it('a bad --format is a usage error', async () => {
    const {code, stdout, stderr} = await runCli(['graph', '-c', await writeTempConfig(config), '--format', 'svg'])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toContain('Expected --format=svg to be one of: text, dot, mermaid')
  })
})

describe('help', () => {
  it('--help lists every command with a summary', async () => {
    const {code, stdout} = await runCli(['--help'])
    expect(code).toBe(0)
    for (const command of ['pipeline', 'validate', 'graph', 'discover', 'version']) expect(stdout).toContain(command)
    const topic = await runCli(['version', '--help'])
    for (const command of ['version list', 'version show', 'version rollback']) expect(topic.stdout).toContain(command)
  })
})
