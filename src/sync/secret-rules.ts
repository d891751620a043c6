import {assertKeySpace, keySpaceProblem} from '../util/key-space.js'
import {InternalError} from '../errors.js'

/** AWS Secrets Manager limits (docs/design.md §4 "Secret names and values"). */
export const MAX_NAME_LENGTH = 512
/** A SecretId (name or ARN) in any read call, e.g. BatchGetSecretValue's SecretIdList; names are shorter still. */
export const MAX_SECRET_ID_LENGTH = 2048
export const MAX_SECRET_BYTES = 65_536
const NAME_CHARS = /^[A-Za-z0-9/_+=.@-]+$/

/** Why `name` is not a valid Secrets Manager name (CreateSecret's rules, plus our key space), or undefined when it is. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the secret name is empty'
  if (name.length > MAX_NAME_LENGTH)
    return `the secret name is ${name.length} characters; AWS allows at most ${MAX_NAME_LENGTH}`
  if (!NAME_CHARS.test(name)) return 'the secret name may use only A-Z a-z 0-9 / _ + = . @ -'
  const outside = keySpaceProblem(name, {leadingSlash: true})
  if (outside !== undefined) return `the secret name ${outside}`
  return undefined
}

/**
 * AWS documents names ending in a hyphen and six characters as ambiguous with the suffix it adds to ARNs (a
 * partial ARN may then match the wrong secret): allowed, but worth a warning.
 */
export const looksLikeArnSuffix = (name: string): boolean => /-[A-Za-z0-9]{6}$/.test(name)

/**
 * Whether `name` may be sent to AWS in a read call at all. A name that breaks a limit cannot exist there, and
 * sending it (a 2,100-character SecretId) fails the whole BatchGetSecretValue call, not just that secret.
 */
export const isSendableName = (name: string): boolean =>
  name.length <= MAX_SECRET_ID_LENGTH && nameProblem(name) === undefined

/**
 * The Secrets Manager name of a secret: `secret_prefix + path`. The prefix comes from the config, which keeps it
 * inside its key space; one that is not, or a path that would blur where the prefix ends, is a bug upstream and
 * an internal error here (never a write). The path's own segments are checked per secret by nameProblem.
 */
export function secretName(prefix: string, path: string): string {
  assertKeySpace('secret_prefix', prefix, {leadingSlash: true, trailingSlash: true})
  if (path === '' || path.startsWith('/'))
    throw new InternalError(
      `internal error: refusing secret path ${JSON.stringify(path)} under prefix ${JSON.stringify(prefix)}`,
    )
  return `${prefix}${path}`
}

/** Why the serialised value cannot be stored, or undefined when it fits. */
export function sizeProblem(serialised: string): string | undefined {
  const bytes = Buffer.byteLength(serialised, 'utf8')
  return bytes > MAX_SECRET_BYTES ? `the value is ${bytes} bytes; AWS allows at most ${MAX_SECRET_BYTES}` : undefined
}
