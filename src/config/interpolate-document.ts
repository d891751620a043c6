import {visit, type Document, type Node} from 'yaml'
import {substituteReferences, SENTINEL, type Reference} from './interpolate.js'
import {keyPathOf, type KeyPath} from './locate.js'

export interface InterpolatedDocument {
  /** Scalars that could not be interpolated: where, and why (naming the variable, never a value). */
  problems: Array<{offset: number; path: KeyPath; message: string}>
  /** Each interpolated scalar and the variables in it. */
  interpolated: Map<Node, string[]>
  /** Inserted values (4+ characters) and the variable each came from, to keep them out of error texts. */
  substituted: Map<string, string>
}

/**
 * Puts the references masked before parsing back into the string scalars they were written in, in place.
 * Each scalar gets the references whose source offsets lie inside its own range, so nothing written
 * elsewhere (or produced by an escape) can stand in for one.
 */
export function interpolateDocument(
  doc: Document.Parsed,
  references: readonly Reference[],
  env: Readonly<Record<string, string | undefined>>,
): InterpolatedDocument {
  const result: InterpolatedDocument = {problems: [], interpolated: new Map(), substituted: new Map()}
  visit(doc, {
    Scalar(_key, node, ancestry) {
      if (typeof node.value !== 'string' || !node.value.includes(SENTINEL) || !node.range) return
      const written = referencesWithin(references, node.range[0], node.range[1])
      // Without a reference written here, a U+0001 can only come from a `\x01` escape: it is the user's text.
      if (written.length === 0) return
      const substitution = substituteReferences(node.value, written, env)
      if (!substitution.ok) {
        const {variable} = substitution
        const message =
          substitution.reason === 'unset'
            ? `environment variable ${variable} is not set (set it, or give a default with \${${variable}:-default})`
            : `cannot interpolate \${${variable}} exactly here: a reference must be part of a string value, and a string with references may not contain \\x01 escapes`
        result.problems.push({offset: node.range[0], path: keyPathOf(ancestry), message})
        return
      }
      node.value = substitution.value
      if (substitution.used.length > 0)
        result.interpolated.set(node, [...new Set(substitution.used.map((use) => use.variable))])
      for (const use of substitution.used) if (use.value.length >= 4) result.substituted.set(use.value, use.variable)
    },
  })
  return result
}

/** The references written between two offsets; `references` is in source order. */
function referencesWithin(references: readonly Reference[], start: number, end: number): Reference[] {
  let low = 0
  let high = references.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((references[middle] as Reference).offset < start) low = middle + 1
    else high = middle
  }
  const found: Reference[] = []
  for (let index = low; index < references.length && (references[index] as Reference).offset < end; index++)
    found.push(references[index] as Reference)
  return found
}
