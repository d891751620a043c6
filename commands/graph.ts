import {Flags} from '@oclif/core'
import {BaseCommand, EXIT_CODES_HELP} from '../src/cli/base-command.js'
import {loadProject} from '../src/config/index.js'
import {graphResult, renderGraph, type GraphResult} from '../src/report/graph.js'

export default class Graph extends BaseCommand {
  static override summary = 'Print the target graph with its levels.'
  static override description = `Targets import vault sources or other targets; they run level by level in topological order. Prints the graph as text, Graphviz dot or Mermaid.\n\n${EXIT_CODES_HELP}`
  static override enableJsonFlag = true
  static override examples = [
    '<%= config.bin %> graph',
    '<%= config.bin %> graph --format dot | dot -Tsvg > graph.svg',
    '<%= config.bin %> graph --format mermaid',
  ]

  static override flags = {
    format: Flags.option({
      options: ['text', 'dot', 'mermaid'] as const,
      description: 'Output format.',
      env: 'SECRETSYNC_GRAPH_FORMAT',
      default: 'text' as const,
    })(),
  }

  async run(): Promise<GraphResult> {
    const {flags} = await this.parse(Graph)
    const {graph} = await loadProject(flags.config, {env: this.surroundings(flags).env})
    const result = graphResult(graph)
    if (!this.jsonEnabled()) process.stdout.write(renderGraph(result, flags.format))
    return result
  }
}
