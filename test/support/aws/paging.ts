import {decodeToken, encodeToken} from './protocol.js'

export interface PageResult<T> {
  items: T[]
  nextToken?: string
}

export interface PageOptions {
  /** Binds tokens to one operation and its filter parameters, so a token cannot be replayed elsewhere. */
  scope: string
  /** Items per page (already validated against the operation's documented range). */
  limit: number
  /**
   * Precede every real page with an empty page that still carries a NextToken, and end with one more
   * empty page. AWS documents that list operations may return fewer results than asked for, even none,
   * while more remain; clients that stop at the first short or empty page lose data.
   */
  emptyPages: boolean
}

const EMPTY_PHASE = '#empty'

/**
 * One page of `items` at the position the token encodes, or `undefined` when the token was not issued
 * for this scope (the caller answers with the service's invalid-token error).
 */
export function takePage<T>(
  items: readonly T[],
  token: string | undefined,
  options: PageOptions,
): PageResult<T> | undefined {
  const {scope, limit, emptyPages} = options
  const first = token === undefined || token === ''
  const emptyAt = first ? undefined : decodeToken(token, scope + EMPTY_PHASE)
  if (emptyAt !== undefined || (first && emptyPages)) {
    return {items: [], nextToken: encodeToken(emptyAt ?? 0, scope)}
  }
  const offset = decodeToken(token, scope)
  if (offset === undefined) return undefined
  const page = items.slice(offset, offset + limit)
  const next = offset + page.length
  if (emptyPages) {
    // An empty real page only happens at the end; every other page leads to an empty one first.
    return page.length === 0 ? {items: []} : {items: page, nextToken: encodeToken(next, scope + EMPTY_PHASE)}
  }
  return next < items.length ? {items: page, nextToken: encodeToken(next, scope)} : {items: page}
}
