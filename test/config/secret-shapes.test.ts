import {describe, expect, it} from 'vitest'
import {parseConfig} from '../../src/config/load.js'
import {nameTemplateWarnings} from '../../src/config/name-templates.js'

// The config side of issue 16: every shape key checked at load, each error naming file, line and key.

const FILE = 'secretsync.yaml'
const configText = (target: string, extra = '') =>
  `aws: {region: us-east-1}\nvault: {address: "http://127.0.0.1:8200"}\nvault_sources:\n  - {name: base, mount: secret/base/}\n  - {name: other, mount: secret/other/}\ntargets:\n  - name: app\n    imports: [base]\n${target}${extra}`
const parse = (target: string, extra = '') => parseConfig(configText(target, extra), FILE, {env: {}}).config
const problem = (target: string, extra = ''): string => {
  try {
    parse(target, extra)
  } catch (error) {
    return (error as Error).message
  }
  throw new Error('expected a config error')
}

describe('name_template', () => {
  it('Given a valid template on a target and on a discovery target template, then both load unchanged', () => {
    const config = parse(
      '    name_template: "{{target}}/{{path | replace \\"/\\" \\"-\\"}}"\n',
      'discovery:\n  - name: orgs\n    type: aws_organizations\n    target: {imports: [base], name_template: "{{account_name | lower}}/{{path}}"}\n',
    )
    expect(config.targets[0]?.name_template).toBe('{{target}}/{{path | replace "/" "-"}}')
    expect(config.discovery[0]?.target.name_template).toBe('{{account_name | lower}}/{{path}}')
  })

  it.each([
    ['"{{nope}}/{{path}}"', 'unknown variable {{nope}}'],
    ['"{{path | title}}"', 'unknown filter "title"'],
    ['"static-name"', 'must use {{path}}'],
    ['"{{path}}/{{key}}"', '{{key}} is only known with granularity: key'],
    ['"{{account_name}}/{{path}}"', '{{account_name}} is known for discovered targets'],
    ['"{{path}}/../x"', 'must not have a "." or ".." segment'],
    ['"{{path}} x"', 'may use only A-Z a-z 0-9'],
    ['"{{path}}//x"', 'empty segment'],
    [`"${'x'.repeat(520)}{{path}}"`, 'AWS allows at most 512'],
  ])('Given name_template %s, then loading fails naming targets[0].name_template and its line', (template, message) => {
    const text = problem(`    name_template: ${template}\n`)
    expect(text).toContain(`${FILE}:9`)
    expect(text).toContain('targets[0].name_template')
    expect(text).toContain(message)
  })

  it('Given {{source}} on a target with two imports, then it is an error: the source would be ambiguous', () => {
    expect(() => parse('    name_template: "{{source}}/{{path}}"\n')).not.toThrow()
    const two = parseConfigError(
      configText('    name_template: "{{source}}/{{path}}"\n').replace('imports: [base]', 'imports: [base, other]'),
    )
    expect(two).toContain('{{source}} needs a target with exactly one import (this one has 2)')
  })

  it('Given a template that renders outside secret_prefix, then it is an error naming the prefix', () => {
    expect(problem('    secret_prefix: apps/\n    name_template: "{{target}}/{{path}}"\n')).toContain(
      'renders names outside secret_prefix "apps/"',
    )
    expect(() =>
      parse('    secret_prefix: apps/\n    name_template: "{{secret_prefix}}{{path | lower}}"\n'),
    ).not.toThrow()
  })

  it('Given names that end in "-" and six characters, then validate warns (AWS: ambiguous with ARN suffixes)', () => {
    const config = parse('    name_template: "{{path}}-abcdef"\n')
    expect(nameTemplateWarnings(config)).toEqual([
      'targets[0].name_template: names end in "-" and six characters, which AWS reads as ambiguous with an ARN suffix',
    ])
    expect(nameTemplateWarnings(parse(''))).toEqual([])
  })
})

function parseConfigError(text: string): string {
  try {
    parseConfig(text, FILE, {env: {}})
  } catch (error) {
    return (error as Error).message
  }
  throw new Error('expected a config error')
}

describe('imports with include/exclude, granularity and format', () => {
  it('Given an import entry {name, include, exclude}, then imports stay names and the selection goes beside them', () => {
    const text = configText('').replace(
      'imports: [base]',
      'imports: [{name: base, include: ["svc/**"], exclude: ["svc/legacy/*"]}, other]',
    )
    const config = parseConfig(text, FILE, {env: {}}).config
    expect(config.targets[0]?.imports).toEqual(['base', 'other'])
    expect(config.targets[0]?.import_selections).toEqual([
      {name: 'base', include: ['svc/**'], exclude: ['svc/legacy/*']},
    ])
  })

  it('Given a bad glob, then loading fails naming the file, line and key of that glob', () => {
    const text = configText('').replace('imports: [base]', 'imports:\n      - {name: base, include: ["svc/a**"]}')
    const message = parseConfigError(text)
    expect(message).toContain(`${FILE}:9`)
    expect(message).toContain('targets[0].imports[0].include[0]')
    expect(message).toContain('"**" must be a whole segment')
  })

  it('Given an unknown import inside an entry, then the graph error names it as for a plain name', () => {
    const text = configText('').replace('imports: [base]', 'imports: [{name: bse, include: ["*"]}]')
    expect(parseConfigError(text)).toContain('unknown import "bse"')
  })

  it('Given granularity key, then the default name is prefix/path/key and a template must use {{key}}', () => {
    expect(() => parse('    granularity: key\n    format: raw\n')).not.toThrow()
    expect(problem('    granularity: key\n    name_template: "{{path}}"\n')).toContain(
      'must use {{key}} with granularity: key',
    )
    expect(problem('    granularity: keys\n')).toContain('targets[0].granularity')
    expect(problem('    format: yaml\n')).toContain('targets[0].format')
  })
})
