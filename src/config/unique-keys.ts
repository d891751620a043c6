import {isScalar, visit, type Document, type Node} from 'yaml'

/** Keys written twice in one map (after interpolation), in one pass per map; yaml's own check is quadratic. */
export function findDuplicateKeys(doc: Document.Parsed): Node[] {
  const duplicates: Node[] = []
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>()
      for (const pair of map.items) {
        // yaml's rule: scalar keys are equal when their values are (so 1 and "1" differ).
        if (!isScalar(pair.key)) continue
        const id = `${typeof pair.key.value}:${String(pair.key.value)}`
        if (seen.has(id)) duplicates.push(pair.key)
        seen.add(id)
      }
    },
  })
  return duplicates
}
