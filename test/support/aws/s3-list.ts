/** Orders keys the way S3 lists them: by the bytes of their UTF-8 encoding, not by UTF-16 code units. */
export const compareUtf8 = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))

export interface ListCursor {
  /** List only keys after this one (exclusive). */
  after?: string
  /** Resuming after a common prefix: every key under it was already rolled up into that prefix. */
  skipPrefix?: string
}

export interface ListPageInput extends ListCursor {
  prefix: string
  delimiter?: string
  maxKeys: number
}

export type ListItem = {kind: 'key'; key: string} | {kind: 'prefix'; prefix: string}

export interface ListPage {
  items: ListItem[]
  isTruncated: boolean
  /** Where the next page starts, when truncated. */
  next?: ListCursor
}

/**
 * One page of a ListObjects listing over keys already sorted with `compareUtf8`. Keys containing the delimiter after
 * the prefix roll up into one common prefix, which counts once against `maxKeys`, as S3 counts it.
 */
export function listPage(sortedKeys: readonly string[], input: ListPageInput): ListPage {
  const items: ListItem[] = []
  let lastPrefix: string | undefined
  for (const key of sortedKeys) {
    if (!key.startsWith(input.prefix)) continue
    if (input.after !== undefined && compareUtf8(key, input.after) <= 0) continue
    if (input.skipPrefix !== undefined && key.startsWith(input.skipPrefix)) continue
    const cut = input.delimiter ? key.indexOf(input.delimiter, input.prefix.length) : -1
    const item: ListItem =
      cut === -1 ? {kind: 'key', key} : {kind: 'prefix', prefix: key.slice(0, cut + (input.delimiter ?? '').length)}
    if (item.kind === 'prefix' && item.prefix === lastPrefix) continue
    if (items.length === input.maxKeys) {
      const last = items[items.length - 1]
      if (last === undefined) return {items, isTruncated: false}
      return {
        items,
        isTruncated: true,
        next: last.kind === 'key' ? {after: last.key} : {after: last.prefix, skipPrefix: last.prefix},
      }
    }
    items.push(item)
    lastPrefix = item.kind === 'prefix' ? item.prefix : undefined
  }
  return {items, isTruncated: false}
}
