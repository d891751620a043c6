import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ROOT} from '../support/cli.js'

// No Docker engine runs here, so the image's rules are checked on the Dockerfile itself: parsed into stages and
// instructions (continuation lines joined, comments dropped, ARG defaults substituted) the way BuildKit reads it.

interface Instruction {
  keyword: string
  args: string
}
interface Stage {
  from: string
  name?: string
  instructions: Instruction[]
}

function parseDockerfile(text: string): {globalArgs: Map<string, string>; stages: Stage[]} {
  const logical: string[] = []
  let pending = ''
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) && pending === '') continue
    if (/^\s*#/.test(line)) continue // a comment inside a continued instruction
    const joined = pending + line
    if (joined.endsWith('\\')) pending = `${joined.slice(0, -1)} `
    else {
      if (joined.trim() !== '') logical.push(joined.trim())
      pending = ''
    }
  }
  const globalArgs = new Map<string, string>()
  const stages: Stage[] = []
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/)
    const args = rest.join(' ')
    const upper = keyword.toUpperCase()
    if (upper === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)
      const from = (match?.[1] ?? '').replace(/\$\{(\w+)\}/g, (_, name: string) => globalArgs.get(name) ?? '')
      stages.push({from, name: match?.[2], instructions: []})
    } else if (stages.length === 0 && upper === 'ARG') {
      const [name = '', value = ''] = args.split('=')
      globalArgs.set(name, value)
    } else stages.at(-1)?.instructions.push({keyword: upper, args})
  }
  return {globalArgs, stages}
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
const final = dockerfile.stages.at(-1) as Stage
const of = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword)

/** The Node.js LTS lines and their end of life (github.com/nodejs/Release). */
const NODE_LTS_END_OF_LIFE: Record<number, string> = {22: '2027-04-30', 24: '2028-04-30', 26: '2029-04-30'}

describe('Dockerfile', () => {
  it('is multi-stage: the build and the production dependencies happen in stages the image does not ship', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2)
    const run = of(final, 'RUN').map((i) => i.args)
    expect(run.join('\n')).not.toMatch(/npm (ci|install)|npm run build|tsc/)
    const fromBuild = of(final, 'COPY').filter((i) => i.args.startsWith('--from='))
    expect(fromBuild.length).toBeGreaterThan(0)
    for (const stage of dockerfile.stages.slice(0, -1)) expect(stage.name).toBeDefined()
  })

  it('runs on a supported Node.js LTS line, the same base in every stage', () => {
    const image = dockerfile.globalArgs.get('NODE_IMAGE') ?? ''
    const major = Number(/^node:(\d+)/.exec(image)?.[1])
    expect(Object.keys(NODE_LTS_END_OF_LIFE).map(Number)).toContain(major)
    expect(Date.parse(NODE_LTS_END_OF_LIFE[major] as string)).toBeGreaterThan(Date.now())
    for (const stage of dockerfile.stages) expect(stage.from).toBe(image)
  })

  it('removes npm, npx, corepack and yarn from the runtime stage', () => {
    const removal = of(final, 'RUN')
      .map((i) => i.args)
      .find((args) => args.startsWith('rm -rf'))
    for (const path of [
      '/usr/local/lib/node_modules/npm',
      '/usr/local/lib/node_modules/corepack',
      '/usr/local/bin/npm',
      '/usr/local/bin/npx',
      '/usr/local/bin/corepack',
      '/usr/local/bin/yarn',
      '/usr/local/bin/yarnpkg',
      '/opt/yarn-*',
    ])
      expect(removal?.split(/\s+/)).toContain(path)
    // ... and nothing after the removal runs a package manager
    const after = final.instructions.slice(final.instructions.findIndex((i) => i.args === removal) + 1)
    expect(after.filter((i) => /\b(npm|npx|yarn|corepack)\b/.test(i.keyword === 'RUN' ? i.args : ''))).toEqual([])
  })

  it('runs as a numeric non-root user, with an exec-form node entrypoint (signals reach node)', () => {
    const users = of(final, 'USER').map((i) => i.args)
    expect(users.at(-1)).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/)
    const entrypoint = JSON.parse(of(final, 'ENTRYPOINT').at(-1)?.args ?? 'null') as string[]
    expect(entrypoint[0]).toBe('node')
    expect(JSON.parse(of(final, 'CMD').at(-1)?.args ?? 'null')).toEqual(['pipeline', '--dry-run'])
  })

  it('labels the image with its source, version and revision from build arguments', () => {
    const args = of(final, 'ARG').map((i) => i.args.split('=')[0])
    const labels = of(final, 'LABEL')
      .map((i) => i.args)
      .join(' ')
    for (const [label, arg] of [
      ['org.opencontainers.image.source', 'SOURCE'],
      ['org.opencontainers.image.version', 'VERSION'],
      ['org.opencontainers.image.revision', 'REVISION'],
    ]) {
      expect(labels).toContain(`${label}="\${${arg}}"`)
      expect(args).toContain(arg)
    }
  })

  it('does not hide the AWS SDK Node.js version warning, and copies only paths that exist', () => {
    const env = of(final, 'ENV')
      .map((i) => i.args)
      .join(' ')
    expect(env).not.toContain('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED')
    for (const stage of dockerfile.stages)
      for (const copy of of(stage, 'COPY').filter((i) => !i.args.startsWith('--from=')))
        for (const source of copy.args.split(/\s+/).slice(0, -1))
          expect(existsSync(join(ROOT, source)), source).toBe(true)
  })
})

describe('the product', () => {
  it('never sets AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED for users (only tests, CI and the benchmark may)', () => {
    for (const file of [
      'bin/run.js',
      'Dockerfile',
      'examples/kubernetes/cronjob.yaml',
      'examples/kubernetes/indexed-job.yaml',
    ])
      expect(readFileSync(join(ROOT, file), 'utf8'), file).not.toContain(
        'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
      )
  })
})
