import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
  ValidateResourcePolicyCommand,
} from '@aws-sdk/client-secrets-manager'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {policyHash} from '../../src/sync/resource-policy.js'
import {onMoto, useAwsEndpoint} from './endpoint.js'

/**
 * Conformance of the Secrets Manager resource-policy operations (PutResourcePolicy, GetResourcePolicy,
 * DeleteResourcePolicy, ValidateResourcePolicy) against the API reference, through the real SDK: the project's
 * server by default, moto with SECRETSYNC_CONFORMANCE=moto.
 *
 * Where moto 5.2.1 differs from the reference, only the server is held to it (`documented`): moto ignores
 * BlockPublicPolicy ("not yet implemented" in its source) and accepts any text as a policy (no
 * MalformedPolicyDocumentException); it keeps the text exactly as sent, where AWS keeps its own form (account
 * principals as root ARNs, its own whitespace) — which is why secretsync compares policies by meaning; and it
 * answers Put/Delete on a secret scheduled for deletion instead of InvalidRequestException. It has no
 * ValidateResourcePolicy. secretsync relies on none of these: AWS's answer to a public policy is reported per secret.
 */
const documented = !onMoto

const REGION = 'us-east-1'
const endpoint = useAwsEndpoint()
let sm: SecretsManagerClient

const policy = (principal: unknown, condition?: unknown) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: principal,
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      ...(condition === undefined ? {} : {Condition: condition}),
    },
  ],
})

async function failureOf(call: Promise<unknown>): Promise<Error> {
  try {
    await call
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the call to fail, it succeeded')
}

const create = (name: string) => sm.send(new CreateSecretCommand({Name: name, SecretString: '{"a":"b"}'}))
const get = (name: string) => sm.send(new GetResourcePolicyCommand({SecretId: name}))

beforeEach(() => {
  sm = new SecretsManagerClient({
    endpoint: endpoint.current().url,
    region: REGION,
    credentials: endpoint.current().base,
  })
})
afterEach(() => {
  sm.destroy()
})

describe('resource policies', () => {
  it('GetResourcePolicy omits ResourcePolicy until one is put, returns one equal in meaning, and none after DeleteResourcePolicy', async () => {
    const created = await create('app/db')
    const none = await get('app/db')
    expect(none).toMatchObject({ARN: created.ARN, Name: 'app/db'})
    expect(none.ResourcePolicy).toBeUndefined()

    const sent = policy({AWS: '111111111111'})
    const put = await sm.send(
      new PutResourcePolicyCommand({SecretId: 'app/db', ResourcePolicy: JSON.stringify(sent), BlockPublicPolicy: true}),
    )
    expect(put).toMatchObject({ARN: created.ARN, Name: 'app/db'})
    const text = (await get('app/db')).ResourcePolicy ?? ''
    // AWS may hand back its own form of the document; what it means is the same.
    expect(policyHash(JSON.parse(text))).toBe(policyHash(sent))

    const deleted = await sm.send(new DeleteResourcePolicyCommand({SecretId: 'app/db'}))
    expect(deleted).toMatchObject({ARN: created.ARN, Name: 'app/db'})
    expect((await get('app/db')).ResourcePolicy).toBeUndefined()
  })

  it('answers ResourceNotFoundException for a secret that does not exist', async () => {
    expect((await failureOf(get('missing'))).name).toBe('ResourceNotFoundException')
    const put = sm.send(
      new PutResourcePolicyCommand({SecretId: 'missing', ResourcePolicy: JSON.stringify(policy('*'))}),
    )
    expect((await failureOf(put)).name).toBe('ResourceNotFoundException')
  })

  it.skipIf(!documented)(
    'BlockPublicPolicy refuses a policy granting every principal without a condition with PublicPolicyException [moto ignores it]',
    async () => {
      await create('app/db')
      for (const principal of ['*', {AWS: '*'}]) {
        const refused = sm.send(
          new PutResourcePolicyCommand({
            SecretId: 'app/db',
            ResourcePolicy: JSON.stringify(policy(principal)),
            BlockPublicPolicy: true,
          }),
        )
        expect((await failureOf(refused)).name).toBe('PublicPolicyException')
      }
      expect((await get('app/db')).ResourcePolicy).toBeUndefined()
      // A condition narrows it (to one organization); without BlockPublicPolicy the public one is taken as it is.
      const narrowed = policy('*', {StringEquals: {'aws:PrincipalOrgID': 'o-abcdefghij'}})
      await sm.send(
        new PutResourcePolicyCommand({
          SecretId: 'app/db',
          ResourcePolicy: JSON.stringify(narrowed),
          BlockPublicPolicy: true,
        }),
      )
      await sm.send(new PutResourcePolicyCommand({SecretId: 'app/db', ResourcePolicy: JSON.stringify(policy('*'))}))
      expect(policyHash(JSON.parse((await get('app/db')).ResourcePolicy ?? ''))).toBe(policyHash(policy('*')))
    },
  )

  it.skipIf(!documented)(
    'refuses text that is not a policy with MalformedPolicyDocumentException, and writes to a secret scheduled for deletion [moto accepts both]',
    async () => {
      await create('app/db')
      for (const text of ['not json', '{"Version": "2012-10-17"}']) {
        const put = sm.send(new PutResourcePolicyCommand({SecretId: 'app/db', ResourcePolicy: text}))
        expect((await failureOf(put)).name, text).toBe('MalformedPolicyDocumentException')
      }
      await sm.send(new DeleteSecretCommand({SecretId: 'app/db', RecoveryWindowInDays: 7}))
      const put = sm.send(
        new PutResourcePolicyCommand({SecretId: 'app/db', ResourcePolicy: JSON.stringify(policy({AWS: '1'}))}),
      )
      expect((await failureOf(put)).name).toBe('InvalidRequestException')
      expect((await failureOf(sm.send(new DeleteResourcePolicyCommand({SecretId: 'app/db'})))).name).toBe(
        'InvalidRequestException',
      )
    },
  )

  it.skipIf(!documented)(
    'ValidateResourcePolicy reports syntax errors without failing the call [moto has no ValidateResourcePolicy]',
    async () => {
      const ok = await sm.send(new ValidateResourcePolicyCommand({ResourcePolicy: JSON.stringify(policy({AWS: '1'}))}))
      expect(ok).toMatchObject({PolicyValidationPassed: true, ValidationErrors: []})
      const bad = await sm.send(new ValidateResourcePolicyCommand({ResourcePolicy: 'not json'}))
      expect(bad.PolicyValidationPassed).toBe(false)
      expect(bad.ValidationErrors?.length).toBe(1)
    },
  )
})
