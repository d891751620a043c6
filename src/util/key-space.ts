import {InternalError} from '../errors.js'

/**
 * Key-space rules shared by the config schema and the builders of S3 keys and secret names. A key is
 * `/`-separated segments; a `.` or `..` segment reads as stepping out of the folder the key is meant to stay
 * inside (and is resolved that way by many S3 tools and IAM reviewers), and an empty one blurs it.
 */
export interface KeySpaceOptions {
  /** A key may start with `/` (Secrets Manager names such as `/prod/db`). */
  leadingSlash?: boolean
  /** A key may end with `/` (prefixes). */
  trailingSlash?: boolean
}

/** Why `key` leaves or blurs its key space, or undefined when every segment is a real name. */
export function keySpaceProblem(key: string, options: KeySpaceOptions = {}): string | undefined {
  if (key === '') return undefined
  let segments = key.split('/')
  if (options.leadingSlash && segments[0] === '' && segments.length > 1) segments = segments.slice(1)
  if (options.trailingSlash && segments.at(-1) === '' && segments.length > 1) segments = segments.slice(0, -1)
  if (segments.some((segment) => segment === '.' || segment === '..')) return 'must not have a "." or ".." segment'
  if (segments.some((segment) => segment === ''))
    return options.leadingSlash
      ? 'must not have an empty segment ("//")'
      : 'must not have an empty segment ("//" or a leading "/")'
  return undefined
}

/** Last line of defence where keys are built: a key outside its space is a bug upstream, never a write. */
export function assertKeySpace(what: string, key: string, options: KeySpaceOptions = {}): string {
  const problem = keySpaceProblem(key, options)
  if (problem !== undefined)
    throw new InternalError(`internal error: refusing ${what} ${JSON.stringify(key)}: it ${problem}`)
  return key
}
