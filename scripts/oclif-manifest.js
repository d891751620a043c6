// Writes oclif.manifest.json from the built commands (dist/commands), as `oclif manifest` does, with
// @oclif/core's own Plugin loader. With the manifest a start reads one JSON file instead of importing every
// command (and everything they import) just to find the one it runs. `npm run build` runs this after tsc,
// so the manifest is always rebuilt from the dist it describes; it is not committed (see .gitignore), and
// test/cli/manifest.test.ts fails when the file on disk differs from what the built commands declare.
import {writeFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'
import {Plugin} from '@oclif/core'

/** The manifest the built commands declare, never read from an existing oclif.manifest.json. */
async function buildManifest(root) {
  const plugin = new Plugin({
    root,
    type: 'core',
    isRoot: true,
    ignoreManifest: true,
    errorOnManifestCreate: true,
    respectNoCacheDefault: true,
  })
  await plugin.load()
  return plugin.manifest
}

const root = resolve(import.meta.dirname, '..')
const file = join(root, 'oclif.manifest.json')
await writeFile(file, `${JSON.stringify(await buildManifest(root), null, 2)}\n`)
// stderr: `npm run -s sandbox -- pipeline -o json | jq` must see only the command's own stdout.
process.stderr.write(`wrote ${file}\n`)
