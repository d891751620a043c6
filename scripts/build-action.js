// Bundles the GitHub Action (src/action/main.ts and everything it imports, AWS SDK included) into one file,
// action/dist/index.js, which action.yml runs with the runner's own Node: nothing is installed or built when the
// action runs. The bundle is committed; test/action/bundle.test.ts rebuilds it and fails when the committed one
// differs, so it cannot drift from the source. esbuild's output depends only on its version (pinned exactly in
// package.json), these options and the input files, so rebuilding gives the same bytes.
//
//   node scripts/build-action.js [--outfile <path>]   (npm run build:action)
import {resolve} from 'node:path'
import {parseArgs} from 'node:util'
import {build} from 'esbuild'

const root = resolve(import.meta.dirname, '..')
const {values} = parseArgs({options: {outfile: {type: 'string', default: 'action/dist/index.js'}}})

const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/action/main.ts'],
  outfile: resolve(root, values.outfile),
  bundle: true,
  platform: 'node',
  // action.yml runs it on node24; node20 keeps it runnable by this repository's CI and tests.
  target: 'node20',
  format: 'esm',
  // Some bundled CommonJS packages call require() for Node built-ins; an ES module has no require of its own.
  banner: {
    js: "import {createRequire as __secretsyncCreateRequire} from 'node:module';\nconst require = __secretsyncCreateRequire(import.meta.url);",
  },
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
})

// The action must not carry the CLI framework: it has its own host (src/action/main.ts).
const oclif = Object.keys(result.metafile.inputs).filter((input) => input.includes('node_modules/@oclif/'))
if (oclif.length > 0) {
  process.stderr.write(`the action bundle must not include oclif, but includes:\n${oclif.join('\n')}\n`)
  process.exitCode = 1
}
