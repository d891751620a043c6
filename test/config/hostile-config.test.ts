import {describe, expect, it} from 'vitest'
import {ConfigError} from '../../src/errors.js'
import {decodeConfigText} from '../../src/config/config-text.js'
import {parseConfig} from '../../src/config/load.js'

// Config text is data: a variable's value lands exactly where its reference is written, once, and is never
// parsed as YAML; nothing written in the file can stand in for a reference (issue 17 items 1-3).

const parse = (text: string, env: Record<string, string> = {}) => parseConfig(text, 'secretsync.yaml', {env}).config

function configError(run: () => unknown): ConfigError {
  try {
    run()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

const target = (body: string): string => `targets:\n  - name: t\n    region: us-east-1\n${body}`
const ENV = {VAULT_ADDR: 'https://vault.example:8200', VAULT_TOKEN: 'hvs.TOPSECRET-token-value', A: 'alpha', B: 'beta'}

describe('interpolation cannot be forged', () => {
  it('Given tags and overrides written as the old placeholders §0§ and §1§, then they stay literal text', () => {
    const config = parse(
      `vault: {address: \${VAULT_ADDR}, auth: {method: token, token: \${VAULT_TOKEN}}}\n${target('    tags: {leak: "§0§", plain: §1§}\n    overrides: {svc: {password: "§1§", other: "§00§"}}\n')}`,
      ENV,
    )
    expect(config.targets[0]?.tags).toEqual({leak: '§0§', plain: '§1§'})
    expect(config.targets[0]?.overrides).toEqual({svc: {password: '§1§', other: '§00§'}})
    expect(config.vault?.auth.token).toBe(ENV.VAULT_TOKEN)
  })

  it('Given a value that itself holds ${B}, then it is inserted as text and not interpolated again', () => {
    const config = parse(target('    tags: {t: "${A}", u: ${A}-x}\n'), {A: '${B}', B: 'beta'})
    expect(config.targets[0]?.tags).toEqual({t: '${B}', u: '${B}-x'})
  })

  it('Given $${X}, then it is the literal ${X}, quoted, unquoted and in flow collections', () => {
    const config = parse(
      target('    tags: {a: $${X}, b: "$${X}", c: pre-$${X}-${A}}\n    overrides: {list: [$${Y}, "$$${A}"]}\n'),
      ENV,
    )
    expect(config.targets[0]?.tags).toEqual({a: '${X}', b: '${X}', c: 'pre-${X}-alpha'})
    expect(config.targets[0]?.overrides).toEqual({list: ['${Y}', '$${A}']})
  })

  it('Given references next to each other and across folded lines, then each takes its own value', () => {
    const config = parse(
      target(
        '    tags:\n      a: ${A}${B}${A}\n      b: >-\n        ${A}\n        and ${B}\n      c: |\n        ${B}\n',
      ),
      ENV,
    )
    expect(config.targets[0]?.tags).toEqual({a: 'alphabetaalpha', b: 'alpha and beta', c: 'beta\n'})
  })

  it('Given a double-quoted \\x01 escape (the masking character) beside a reference, then the scalar is refused by name', () => {
    const error = configError(() => parse(target('    tags: {a: "\\x01\\x01\\x01\\x01 ${A}"}\n'), ENV))
    expect(error.issues).toEqual([
      expect.objectContaining({
        line: 4,
        path: 'targets[0].tags.a',
        message: expect.stringContaining('cannot interpolate ${A} exactly'),
      }),
    ])
  })

  it('Given a double-quoted \\x01 escape without any reference, then it is kept exactly', () => {
    expect(parse(target('    tags: {a: "\\x01\\x01"}\n')).targets[0]?.tags).toEqual({a: '\u0001\u0001'})
  })

  it('Given a raw control character in the file, then it is refused with its line and code point', () => {
    const error = configError(() => parse(target('    tags: {a: "x\u0001y"}\n')))
    expect(error.issues).toEqual([expect.objectContaining({line: 4, message: expect.stringContaining('U+0001')})])
  })

  it('Given two keys that become equal once interpolated, then the second is a duplicate key', () => {
    const error = configError(() => parse(target('    tags:\n      ${A}: x\n      alpha: y\n'), ENV))
    expect(error.issues).toEqual([expect.objectContaining({line: 6, message: 'YAML syntax: Map keys must be unique'})])
  })
})

describe('values never pass through the YAML parser', () => {
  const hostile = [
    '{hvs.abc',
    '*hvs.abc',
    '&anchor x',
    '!tag v',
    '[a, b',
    '- item',
    'a: b',
    '"quoted',
    "'single",
    '|',
    '# comment',
    '%YAML',
    '@at',
    '`tick',
    'null',
    '~',
    'true',
    '0x1F',
    '1e5',
    '12345678901234567890',
    ' lead',
    'trail ',
    'multi\nline',
  ]

  it.each(hostile)(
    'Given VAULT_TOKEN=%j unquoted, quoted and in a flow map, then the token is exactly that string',
    (value) => {
      const config = parse(
        `vault:\n  address: \${VAULT_ADDR}\n  auth:\n    token: \${VAULT_TOKEN}\n${target(`    tags: {t: \${VAULT_TOKEN}, q: "\${VAULT_TOKEN}"}\n    overrides: {svc: {password: '\${VAULT_TOKEN}'}}\n`)}`,
        {
          ...ENV,
          VAULT_TOKEN: value,
        },
      )
      expect(config.vault?.auth.token).toBe(value)
      expect(config.targets[0]?.tags).toEqual({t: value, q: value})
      expect(config.targets[0]?.overrides).toEqual({svc: {password: value}})
    },
  )

  it('Given an interpolated value where a key wants a number or boolean, then the schema coerces exact literals only', () => {
    const config = parse(
      `sync: {concurrency: \${C}, write_rate: \${R}, adopt: \${T}}\nmetrics: {enabled: \${F}}\n${target('    overrides: {port: ${C}}\n')}`,
      {C: '12', R: '2.5', T: 'true', F: 'False'},
    )
    expect(config.sync).toMatchObject({concurrency: 12, write_rate: 2.5, adopt: true})
    expect(config.metrics.enabled).toBe(false)
    // Secret data stays exactly what the variable holds.
    expect(config.targets[0]?.overrides).toEqual({port: '12'})
    expect(configError(() => parse('sync: {concurrency: ${C}}\n', {C: '0x0C'})).issues[0]?.message).toBe(
      'expected a whole number, got a string (the value of ${C})',
    )
  })

  it('Given a token in a key that rejects it, then the error names file, line, key and variable and never the value', () => {
    const error = configError(() =>
      parse(`logging:\n  level: \${VAULT_TOKEN}\nretry: {base_delay: \${VAULT_TOKEN}}\n`, ENV),
    )
    expect(error.message).not.toContain(ENV.VAULT_TOKEN)
    expect(error.issues).toEqual([
      expect.objectContaining({
        file: 'secretsync.yaml',
        line: 2,
        path: 'logging.level',
        message: expect.stringContaining('(the value of ${VAULT_TOKEN})'),
      }),
      expect.objectContaining({
        file: 'secretsync.yaml',
        line: 3,
        path: 'retry.base_delay',
        message: 'expected a duration like 500ms, 30s, 10m or 1h (the value of ${VAULT_TOKEN})',
      }),
    ])
  })

  it('Given a token used as a name that then collides, then the semantic error shows the reference, not the value', () => {
    const error = configError(() =>
      parse(`targets:\n  - {name: \${N}, region: us-east-1}\n  - {name: \${N}, region: us-east-1}\n`, {
        N: 'hvs.Name-Like-Token',
      }),
    )
    expect(error.message).not.toContain('hvs.Name-Like-Token')
    expect(error.message).toContain('${N}')
  })

  it('Given the same file written without references, then a bad value is still quoted (it is not secret)', () => {
    expect(configError(() => parse('retry: {base_delay: 5 s}\n')).issues[0]?.message).toBe(
      'expected a duration like 500ms, 30s, 10m or 1h, got "5 s"',
    )
  })
})

describe('names stay in their key space', () => {
  it.each(['secret/./', 'secret/.', './x'])(
    'Given the source mount %j, then it is refused (its default name would be ".")',
    (mount) => {
      expect(
        configError(() => parse(`vault: {address: http://v}\nvault_sources:\n  - mount: ${mount}\n`)).issues,
      ).toEqual([
        expect.objectContaining({
          line: 3,
          path: 'vault_sources[0].mount',
          message: expect.stringContaining('without "..", "."'),
        }),
      ])
    },
  )

  it.each(['.', '..'])('Given a source or discovery block named %j, then it is refused', (name) => {
    expect(
      configError(() => parse(`vault: {address: http://v}\nvault_sources:\n  - {name: "${name}", mount: secret/x/}\n`))
        .issues[0],
    ).toMatchObject({path: 'vault_sources[0].name', message: 'source names must not be "." or ".."'})
    expect(
      configError(() => parse(`discovery:\n  - {name: "${name}", type: aws_organizations}\n`)).issues[0],
    ).toMatchObject({path: 'discovery[0].name', message: 'discovery names must not be "." or ".."'})
  })

  it('Given prefixes made only of real names (and a leading "/" for secret names), then they are accepted', () => {
    const config = parse(
      `merge_store: {bucket: store, prefix: a/b..c/...}\ntargets:\n  - {name: ..., region: us-east-1, secret_prefix: /prod/app.v2/}\n`,
    )
    expect(config.merge_store?.prefix).toBe('a/b..c/.../')
    expect(config.targets[0]).toMatchObject({name: '...', secret_prefix: '/prod/app.v2/'})
  })
})

describe('the file itself', () => {
  it('Given bytes that are not UTF-8 on line 3, then decoding fails naming that line', () => {
    const bytes = Buffer.concat([
      Buffer.from('logging:\n  level: info\ntargets: [{name: caf'),
      Buffer.from([0xe9]),
      Buffer.from(', region: us-east-1}]\n'),
    ])
    const error = configError(() => decodeConfigText(bytes, 'bad.yaml'))
    expect(error.exitCode).toBe(2)
    expect(error.issues).toEqual([
      {file: 'bad.yaml', line: 3, path: '', message: 'is not UTF-8 text (save the file as UTF-8)'},
    ])
  })

  it('Given UTF-8 with a BOM and multi-byte characters, then it decodes exactly', () => {
    expect(decodeConfigText(Buffer.from('\uFEFFa: café ✓\n', 'utf8'), 'ok.yaml')).toBe('a: café ✓\n')
  })

  it('Given a billion-laughs alias bomb, then it is a config error naming the file', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for (let i = 1; i < 9; i++)
      levels.push(
        `${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9)
          .fill(`*${'abcdefghi'[i - 1]}`)
          .join(',')}]`,
      )
    const error = configError(() => parse(`${levels.join('\n')}\n`))
    expect(error.exitCode).toBe(2)
    expect(error.issues).toEqual([
      expect.objectContaining({file: 'secretsync.yaml', message: expect.stringContaining('alias')}),
    ])
  })

  it('Given a config of 600,000 keys, then it parses (the duplicate-key check is linear)', () => {
    const lines = ['targets:', '  - name: t', '    region: us-east-1', '    overrides:']
    for (let i = 0; i < 600_000; i++) lines.push(`      key_${i}: v${i}`)
    const config = parse(`${lines.join('\n')}\n`)
    expect(Object.keys(config.targets[0]?.overrides ?? {})).toHaveLength(600_000)
  }, 300_000)

  it('Given a duplicate among many keys, then it is reported at its line', () => {
    const lines = ['targets:', '  - name: t', '    region: us-east-1', '    overrides:']
    for (let i = 0; i < 1000; i++) lines.push(`      key_${i}: v`)
    lines.push('      key_500: again')
    expect(configError(() => parse(`${lines.join('\n')}\n`)).issues).toEqual([
      expect.objectContaining({line: 1005, message: 'YAML syntax: Map keys must be unique'}),
    ])
  })
})
