import {execFile} from 'node:child_process'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {ACTION_BUNDLE} from '../support/action.js'
import {ROOT} from '../support/cli.js'

const run = promisify(execFile)

describe('the committed action bundle', () => {
  it('is exactly what `npm run build:action` builds from the current source (rebuild and commit it if not)', async () => {
    // Given a fresh build into a temporary directory
    const dir = await mkdtemp(join(tmpdir(), 'secretsync-bundle-'))
    try {
      const outfile = join(dir, 'index.js')
      await run(process.execPath, [join(ROOT, 'scripts', 'build-action.js'), '--outfile', outfile], {cwd: ROOT})

      // When it is compared with the committed file
      const [fresh, committed] = await Promise.all([readFile(outfile), readFile(ACTION_BUNDLE)])

      // Then they are the same bytes
      expect(
        fresh.equals(committed),
        'action/dist/index.js is stale: run `npm run build:action` and commit the result',
      ).toBe(true)
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  it('is what action.yml runs, on a Node runtime GitHub supports, with nothing to install', async () => {
    const manifest = parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as {runs: Record<string, unknown>}
    expect(manifest.runs).toEqual({using: 'node24', main: 'action/dist/index.js'})
    expect(join(ROOT, String(manifest.runs.main))).toBe(ACTION_BUNDLE)
  })
})
