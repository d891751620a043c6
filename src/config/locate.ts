import {isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node, type Scalar} from 'yaml'

export type KeyPath = ReadonlyArray<string | number>

/** Renders `['targets', 1, 'imports', 0]` as `targets[1].imports[0]`. */
export const formatPath = (path: KeyPath): string =>
  path.reduce<string>(
    (text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment),
    '',
  )

/** Finds where a key path is written in a YAML document, so errors can name a line. */
export class SourceLocator {
  constructor(
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** The node written exactly at `path`, or undefined when the path is not in the document. */
  node(path: KeyPath): Node | undefined {
    let node: unknown = this.doc.contents
    for (const segment of path) {
      if (isMap(node))
        node = node.items.find(
          (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
        )?.value
      else if (isSeq(node) && typeof segment === 'number') node = node.items[segment]
      else return undefined
    }
    return node && typeof node === 'object' && 'range' in node ? (node as Node) : undefined
  }

  /** Line/column of the value at `path`, or of the key itself when `key` is set; the nearest ancestor when absent. */
  locate(path: KeyPath, options: {key?: boolean} = {}): {line: number; column: number} | undefined {
    let node: unknown = this.doc.contents
    let found: Node | undefined = node as Node | undefined
    for (const [index, segment] of path.entries()) {
      const last = index === path.length - 1
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
        )
        if (!pair) break
        if (last && options.key && isScalar(pair.key)) {
          found = pair.key
          break
        }
        node = pair.value
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment]
      } else {
        break
      }
      if (node && typeof node === 'object' && 'range' in node) found = node as Node
    }
    const offset = found?.range?.[0]
    if (offset === undefined) return undefined
    const {line, col} = this.lines.linePos(offset)
    return {line, column: col}
  }
}

/** The key path of a node from yaml's visitor ancestry (maps contribute pair keys, sequences indices). */
export function keyPathOf(ancestry: readonly unknown[]): KeyPath {
  const path: Array<string | number> = []
  for (const [index, node] of ancestry.entries()) {
    const child = ancestry[index + 1]
    if (node && typeof node === 'object' && 'items' in node && child !== undefined) {
      const items = (node as {items: unknown[]}).items
      const position = items.indexOf(child)
      if ('key' in (child as object) && isScalar((child as {key: unknown}).key)) {
        path.push(String((child as {key: Scalar}).key.value))
      } else if (position >= 0) {
        path.push(position)
      }
    }
  }
  return path
}
