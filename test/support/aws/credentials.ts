import {randomBytes} from 'node:crypto'
import type {CredentialRegistry, IssuedCredentials} from './types.js'

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** `count` characters from the base32 alphabet AWS access key ids use. */
const keyChars = (count: number): string =>
  Array.from(randomBytes(count), (byte) => KEY_ALPHABET[byte % KEY_ALPHABET.length]).join('')

/**
 * The identities the AWS test server knows, shared by every service so a key issued by STS
 * `AssumeRole` works against S3 and Secrets Manager in the role's account.
 */
export class InMemoryCredentialRegistry implements CredentialRegistry {
  private readonly byAccessKey = new Map<string, IssuedCredentials>()

  lookup(accessKeyId: string): IssuedCredentials | undefined {
    const found = this.byAccessKey.get(accessKeyId)
    return found && {...found}
  }

  /** Issues temporary credentials the way STS does: an `ASIA` key, a 40-char secret and a session token. */
  issue(creds: Omit<IssuedCredentials, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>): IssuedCredentials {
    const issued: IssuedCredentials = {
      ...creds,
      accessKeyId: `ASIA${keyChars(16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `FwoGZXIvYXdzE${randomBytes(96).toString('base64')}`,
    }
    this.register(issued)
    return {...issued}
  }

  register(creds: IssuedCredentials): void {
    this.byAccessKey.set(creds.accessKeyId, {...creds})
  }
}

/** Long-term credentials of an account's root identity, as `GetCallerIdentity` reports them. */
export const rootIdentity = (accessKeyId: string, secretAccessKey: string, accountId: string): IssuedCredentials => ({
  accessKeyId,
  secretAccessKey,
  accountId,
  arn: `arn:aws:iam::${accountId}:root`,
  userId: accountId,
})
