import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ROOT} from '../support/cli.js'

// Comments and docs cite the design notes; the file they cite must be in the repository.

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })
}

describe('design references', () => {
  it('cite docs/design.md (which exists, with the cited sections), never a DESIGN.md outside the repository', () => {
    const design = readFileSync(join(ROOT, 'docs', 'design.md'), 'utf8')
    const files = [
      join(ROOT, 'README.md'),
      ...['src', 'commands', 'docs', 'examples', 'test'].flatMap((dir) => filesUnder(join(ROOT, dir))),
    ].filter((file) => /\.(ts|js|md|ya?ml|json)$/.test(file) && file !== import.meta.filename)
    for (const file of files) {
      const text = readFileSync(file, 'utf8')
      expect(text.match(/(?<!docs\/)DESIGN\.md/g), relative(ROOT, file)).toBeNull()
      for (const [, section] of text.matchAll(/docs\/design\.md §(\d+)/g))
        expect(design, `${relative(ROOT, file)} cites §${section}`).toContain(`## §${section} `)
    }
  })
})
