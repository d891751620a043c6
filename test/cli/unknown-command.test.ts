import {describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'

// A mistyped command is a usage error (exit 2) with a suggestion, as the shell sees it: never topic help with
// exit 0, which a script would take for success.

const run = (args: string[]) => runCli(args, {subprocess: true, timeoutMs: 30_000})

describe('mistyped commands', () => {
  it('`version -c x list` (flags before the subcommand) exits 2 and suggests `version list -c x`', async () => {
    const {code, stdout, stderr} = await run(['version', '-c', 'x', 'list'])

    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toContain('did you mean "secretsync version list -c x"?')
  })

  it('`pipelin` exits 2 and suggests `pipeline`; `version lst` suggests `version list`', async () => {
    const pipelin = await run(['pipelin', '--dry-run'])
    const lst = await run(['version', 'lst'])

    expect([pipelin.code, lst.code]).toEqual([2, 2])
    expect(pipelin.stderr).toContain('unknown command "pipelin": did you mean "secretsync pipeline"?')
    expect(lst.stderr).toContain('unknown command "version lst": did you mean "secretsync version list"?')
  })

  it('a word close to no command exits 2 and lists the commands; what the user typed is escaped', async () => {
    const {code, stderr} = await run(['\u001b[31mnonsense'])

    expect(code).toBe(2)
    expect(stderr).toContain('unknown command')
    expect(stderr).toContain('Commands: discover, graph, pipeline')
    expect(stderr).not.toContain('\u001b[31m')
  })

  it('a topic alone, or with --help, still shows its help with exit 0', async () => {
    const alone = await run(['version'])
    const help = await run(['version', '--help'])

    expect([alone.code, help.code]).toEqual([0, 0])
    expect(alone.stdout).toContain('version list')
    expect(help.stdout).toContain('version list')
  })
})
