import {describe, expect, it} from 'vitest'
import {parseNameTemplate, renderName, type NameTemplate} from '../../src/sync/name-template.js'
import {namesToRead, planTarget, type CurrentSecret, type DesiredSecret} from '../../src/sync/plan.js'
import {shapeSecrets, type TargetShape} from '../../src/sync/shape-secrets.js'
import type {JsonObject} from '../../src/util/canonical-json.js'
import {ExactNumber, jsonObject, stringifyJson} from '../../src/util/exact-json.js'

// What lands in AWS (issue 16): name templates parsed once, rendered per secret and never trusted once rendered;
// granularity and formats, compared exactly.

const parsed = (text: string): NameTemplate => {
  const result = parseNameTemplate(text)
  if (!result.ok) throw new Error(result.error)
  return result.template
}
const render = (text: string, variables: Record<string, string>) => renderName(parsed(text), variables)
const context = {target: 'app', prefix: '', accountId: '111111111111', region: 'eu-west-1'}
const shape = (text: string, extra: Partial<TargetShape> = {}): TargetShape => ({nameTemplate: parsed(text), ...extra})
const PLAN = {
  target: 'app',
  prefix: '',
  adopt: false,
  deleteOrphans: false,
  showValues: false,
  metadata: {tags: {}},
  incomplete: [],
}
const planOf = (secrets: DesiredSecret[]) => planTarget(secrets, new Map(), undefined, PLAN)
const desired = (...paths: string[]) => new Map(paths.map((path) => [path, {v: path}]))

describe('parsing and rendering a name template', () => {
  it('Given variables and filters, then each placeholder renders its variable through its filters in order', () => {
    const vars = {path: 'Svc/Api', target: 'prod', region: 'eu-west-1'}
    expect(render('{{target}}/{{path}}', vars)).toEqual({name: 'prod/Svc/Api'})
    expect(render('{{ path | lower }}', vars)).toEqual({name: 'svc/api'})
    expect(render('{{path | upper}}', vars)).toEqual({name: 'SVC/API'})
    expect(render('{{region}}_{{path | replace "/" "-" | lower}}', vars)).toEqual({name: 'eu-west-1_svc-api'})
    expect(render('{{path | replace "|" "\\""}}', {path: 'a|b'})).toEqual({name: 'a"b'})
  })

  it.each([
    ['{{nope}}/{{path}}', /unknown variable \{\{nope\}\}/],
    ['{{path | title}}', /unknown filter "title"/],
    ['{{path | replace "/"}}', /takes two double-quoted strings/],
    ['{{path | replace "" "-"}}', /non-empty string/],
    ['{{path | lower "x"}}', /takes no arguments/],
    ['{{path}}}}', /unbalanced/],
    ['{{path', /unbalanced/],
    ['{{path | }}', /filter name is missing/],
  ])('Given %j, then parsing fails saying why', (text, message) => {
    const result = parseNameTemplate(text)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error).toMatch(message)
  })
})

describe('shaping a target: paths to names', () => {
  it('Given the default template, then names are secret_prefix + path, byte for byte', () => {
    const secrets = shapeSecrets(desired('db', 'svc/api'), shape('{{secret_prefix}}{{path}}'), {
      ...context,
      prefix: 'apps/',
    })
    expect(secrets.map((s) => s.name)).toEqual(['apps/db', 'apps/svc/api'])
    expect(secrets.every((s) => s.problem === undefined)).toBe(true)
  })

  it('Given two paths that render to one name, then both fail naming the other, and the rest are fine', () => {
    const secrets = shapeSecrets(desired('DB', 'db', 'api'), shape('{{path | lower}}'), context)
    const byPath = new Map(secrets.map((s) => [s.path, s]))
    expect(byPath.get('DB')?.problem).toMatch(/the name "db" is also rendered for "db"/)
    expect(byPath.get('db')?.problem).toMatch(/the name "db" is also rendered for "DB"/)
    expect(byPath.get('api')?.problem).toBeUndefined()
    const plan = planOf(secrets)
    expect(plan.changes.map((c) => [c.path, c.action, c.error === null])).toEqual([
      ['DB', 'create', false],
      ['api', 'create', true],
      ['db', 'create', false],
    ])
  })

  it.each([
    ['..', 'must not have a "." or ".." segment'],
    ['a//b', 'empty segment'],
    ['Prod Account', 'may use only'],
    ['x'.repeat(600), 'AWS allows at most 512'],
  ])(
    'Given the account name %j (untrusted), then every rendered name fails the name guard and nothing is written',
    (accountName, problem) => {
      const secrets = shapeSecrets(desired('db'), shape('{{account_name}}/{{path}}', {accountName}), context)
      const plan = planOf(secrets)
      expect(plan.changes).toHaveLength(1)
      expect(plan.changes[0]?.error).toContain(problem)
    },
  )

  it('Given a template that renders outside secret_prefix, then the secret fails: the prefix scopes what the target owns', () => {
    const [secret] = shapeSecrets(desired('db'), shape('{{target}}/{{path}}'), {...context, prefix: 'apps/'})
    expect(secret?.problem).toMatch(/outside secret_prefix "apps\/"/)
  })

  it('Given a replace filter that makes an empty segment, then the name is refused (never a ".." or "//" name)', () => {
    const secrets = shapeSecrets(desired('a/b'), shape('{{path | replace "b" ""}}x/{{path}}'), context)
    const plan = planOf(secrets)
    expect(secrets[0]?.name).toBe('a/x/a/b')
    expect(plan.changes[0]?.error).toBeNull()
    const dotted = shapeSecrets(desired('a/b'), shape('{{path | replace "b" ".."}}/{{path}}'), context)
    expect(planOf(dotted).changes[0]?.error).toContain('".."')
  })
})

describe('granularity and formats', () => {
  const keyShape = (format: TargetShape['format'], text = '{{secret_prefix}}{{path}}/{{key}}'): TargetShape =>
    shape(text, {granularity: 'key', format})
  const one = new Map([
    [
      'db',
      jsonObject([
        ['user', 'u'],
        ['port', new ExactNumber('5432')],
        ['cfg', {a: 1}],
      ]),
    ],
  ])

  it('Given granularity key, then every top-level key is its own secret, named with {{key}}, JSON {key: value}', () => {
    const secrets = shapeSecrets(one, keyShape('json'), {...context, prefix: 'apps/'})
    expect(secrets.map((s) => [s.name, s.key, stringifyJson(s.value), s.payload])).toEqual([
      ['apps/db/user', 'user', '{"user":"u"}', undefined],
      ['apps/db/port', 'port', '{"port":5432}', undefined],
      ['apps/db/cfg', 'cfg', '{"cfg":{"a":1}}', undefined],
    ])
  })

  it('Given format raw with granularity key, then strings are plain, numbers keep their digits, objects stay JSON', () => {
    const secrets = shapeSecrets(one, keyShape('raw'), context)
    expect(secrets.map((s) => s.payload)).toEqual([{string: 'u'}, {string: '5432'}, {string: '{"a":1}'}])
  })

  it('Given format raw with granularity path, then a single-key secret is its value and a multi-key one fails, named', () => {
    const secrets = shapeSecrets(
      new Map<string, JsonObject>([
        ['single', {token: 't-1'}],
        ['multi', {a: '1', b: '2'}],
      ]),
      shape('{{secret_prefix}}{{path}}', {format: 'raw'}),
      context,
    )
    expect(secrets.map((s) => [s.path, s.payload, s.problem])).toEqual([
      [
        'multi',
        undefined,
        expect.stringContaining('format raw takes the value of a single-key secret; this one has 2 keys'),
      ],
      ['single', {string: 't-1'}, undefined],
    ])
  })

  it('Given format binary, then valid base64 becomes bytes, and anything else fails alone (never silently decoded)', () => {
    const secrets = shapeSecrets(
      new Map<string, JsonObject>([
        ['ok', {cert: Buffer.from([0, 1, 2, 255]).toString('base64')}],
        ['bad', {cert: 'not base64!'}],
        ['unpadded', {cert: 'AAE'}],
        ['number', {cert: 7}],
      ]),
      shape('{{secret_prefix}}{{path}}', {format: 'binary'}),
      context,
    )
    const byPath = new Map(secrets.map((s) => [s.path, s]))
    expect(byPath.get('ok')?.payload).toEqual({binary: new Uint8Array([0, 1, 2, 255])})
    for (const path of ['bad', 'unpadded', 'number'])
      expect(byPath.get(path)?.problem, path).toContain('format binary needs a base64 string')
  })

  it('Given binary in AWS, then equal bytes are in sync and one changed byte is an update (compared byte-exactly)', () => {
    const [secret] = shapeSecrets(
      new Map([['ok', {cert: Buffer.from([0, 1, 2]).toString('base64')}]]),
      shape('{{secret_prefix}}{{path}}', {format: 'binary'}),
      context,
    )
    const current = (bytes: number[]) =>
      new Map<string, CurrentSecret>([
        [
          'ok',
          {
            name: 'ok',
            owned: true,
            ownerTarget: 'app',
            scheduledForDeletion: false,
            currentVersionId: 'v1',
            metadata: {tags: {}},
            value: '',
            binary: new Uint8Array(bytes),
          },
        ],
      ])
    expect(planTarget([secret as DesiredSecret], current([0, 1, 2]), undefined, PLAN).changes).toEqual([])
    expect(planTarget([secret as DesiredSecret], current([0, 1, 3]), undefined, PLAN).changes).toMatchObject([
      {action: 'update', keys_changed: ['cert'], error: null},
    ])
  })

  it('Given a hostile key (untrusted) with granularity key, then its name fails the name guard alone', () => {
    const secrets = shapeSecrets(new Map([['db', {'': 'x', '../up': 'y', ok: 'z'}]]), keyShape('raw'), context)
    const plan = planOf(secrets)
    expect(plan.changes.map((c) => [c.key, c.error === null])).toEqual([
      ['', false],
      ['../up', false],
      ['ok', true],
    ])
  })
})

describe('rotation-aware sync', () => {
  const rotated = (name: string, value: JsonObject | string): CurrentSecret => ({
    name,
    owned: true,
    ownerTarget: 'app',
    scheduledForDeletion: false,
    currentVersionId: 'v1',
    metadata: {tags: {}},
    rotationEnabled: true,
    value,
  })
  const desiredDb = shapeSecrets(new Map([['db', {password: 'new'}]]), shape('{{secret_prefix}}{{path}}'), context)

  it('Given rotation enabled in AWS, then the secret is not read, not written, and listed as skipped (rotation)', () => {
    const current = new Map([
      ['db', rotated('db', {password: 'rotated'})],
      ['orphan', rotated('orphan', 'x')],
    ])
    expect(namesToRead(desiredDb, current, undefined, {adopt: false, target: PLAN.target})).toEqual([])
    const plan = planTarget(desiredDb, current, undefined, {...PLAN, deleteOrphans: true})
    expect(plan.changes.map((c) => [c.action, c.name, c.reason, c.error])).toEqual([
      ['skip', 'db', 'rotation', null],
      ['skip', 'orphan', 'rotation', null],
    ])
  })

  it('Given rotation: overwrite, then a rotated secret is read and corrected like any other', () => {
    const current = new Map([['db', rotated('db', {password: 'rotated'})]])
    expect(
      namesToRead(desiredDb, current, undefined, {adopt: false, target: PLAN.target, rotation: 'overwrite'}),
    ).toEqual(['db'])
    const plan = planTarget(desiredDb, current, undefined, {...PLAN, rotation: 'overwrite'})
    expect(plan.changes).toMatchObject([{action: 'update', name: 'db', keys_changed: ['password'], error: null}])
  })
})
