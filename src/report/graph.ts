import type {TargetGraph} from '../graph/target-graph.js'
import {escapeUntrusted, guardLines, untrusted} from '../util/untrusted-text.js'

export type GraphFormat = 'text' | 'dot' | 'mermaid'

export interface GraphResult {
  sources: string[]
  levels: Array<Array<{name: string; imports: string[]}>>
}

export const graphResult = (graph: TargetGraph): GraphResult => ({
  sources: [...graph.sources],
  levels: graph.levels.map((level) => level.map((name) => ({name, imports: [...graph.importsOf(name)]}))),
})

// Names come from the config and from discovery: escaped like any untrusted field, then quoted for dot and mermaid.
const quote = (text: string): string => `"${escapeUntrusted(text).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`

// Mermaid ids must be plain words; names may hold "." and "-".
const mermaidId = (kind: 's' | 't', name: string): string =>
  `${kind}_${name.replace(/[^A-Za-z0-9_]/g, (c) => `_${c.charCodeAt(0).toString(16)}_`)}`

export function renderGraph(result: GraphResult, format: GraphFormat): string {
  const targets = new Set(result.levels.flat().map((t) => t.name))
  if (format === 'dot') {
    const lines = ['digraph secretsync {', '  rankdir=LR;', '  node [shape=box];']
    for (const source of result.sources)
      lines.push(`  ${quote(`source:${source}`)} [label=${quote(source)}, shape=cylinder];`)
    result.levels.forEach((level, index) => {
      lines.push(`  subgraph ${quote(`cluster_level_${index}`)} {`, `    label=${quote(`level ${index}`)};`)
      for (const target of level) lines.push(`    ${quote(`target:${target.name}`)} [label=${quote(target.name)}];`)
      lines.push('  }')
    })
    for (const target of result.levels.flat()) {
      for (const imported of target.imports) {
        const from = targets.has(imported) ? `target:${imported}` : `source:${imported}`
        lines.push(`  ${quote(from)} -> ${quote(`target:${target.name}`)};`)
      }
    }
    return `${guardLines([...lines, '}'].join('\n'))}\n`
  }
  if (format === 'mermaid') {
    const lines = ['graph LR']
    for (const source of result.sources) lines.push(`  ${mermaidId('s', source)}[(${quote(source)})]`)
    result.levels.forEach((level, index) => {
      lines.push(`  subgraph level_${index}[${quote(`level ${index}`)}]`)
      for (const target of level) lines.push(`    ${mermaidId('t', target.name)}[${quote(target.name)}]`)
      lines.push('  end')
    })
    for (const target of result.levels.flat()) {
      for (const imported of target.imports) {
        const from = targets.has(imported) ? mermaidId('t', imported) : mermaidId('s', imported)
        lines.push(`  ${from} --> ${mermaidId('t', target.name)}`)
      }
    }
    return `${guardLines(lines.join('\n'))}\n`
  }
  const lines = [untrusted`sources: ${result.sources.length > 0 ? result.sources.join(', ') : '(none)'}`]
  result.levels.forEach((level, index) => {
    lines.push(`level ${index}:`)
    for (const target of level)
      lines.push(untrusted`  ${target.name} <- ${target.imports.length > 0 ? target.imports.join(', ') : '(nothing)'}`)
  })
  if (result.levels.length === 0) lines.push('(no targets)')
  return `${guardLines(lines.join('\n'))}\n`
}
