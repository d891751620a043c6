import type {IncomingMessage, ServerResponse} from 'node:http'
import {createServer} from 'node:net'
import {listen, readBody, sleep, type RunningServer} from './http-server.js'

/** A port nothing listens on right now, for `--metrics-port`. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * Scrapes `url` over and over while `run` is in flight and returns every answer it got, oldest first. The CLI
 * serves metrics only during its run, so any answer was taken during the run.
 */
export async function scrapeWhile<T>(
  url: string,
  run: Promise<T>,
  everyMs = 25,
): Promise<{result: T; scrapes: string[]}> {
  let settled = false
  const done = run.finally(() => {
    settled = true
  })
  const scrapes: string[] = []
  while (!settled) {
    try {
      const response = await fetch(url, {signal: AbortSignal.timeout(2_000)})
      if (response.ok) scrapes.push(await response.text())
    } catch {
      // Not listening yet (or any more).
    }
    await sleep(everyMs)
  }
  return {result: await done, scrapes}
}

export interface PushRecord {
  method: string
  path: string
  body: string
}

/** A fake Prometheus Pushgateway: records every request it gets and answers 200. */
export async function startFakePushgateway(): Promise<{
  url: string
  pushes: PushRecord[]
  /** What the Pushgateway holds per grouping key (path): a PUT replaces exactly its own group, as the real one does. */
  groups: Map<string, string>
  close(): Promise<void>
}> {
  const pushes: PushRecord[] = []
  const groups = new Map<string, string>()
  const server: RunningServer = await listen((req: IncomingMessage, res: ServerResponse) => {
    void readBody(req).then((body) => {
      pushes.push({method: req.method ?? '', path: req.url ?? '', body: body.toString('utf8')})
      if (req.method === 'PUT') groups.set(req.url ?? '', body.toString('utf8'))
      res.writeHead(200, {'content-type': 'text/plain'}).end()
    })
  })
  return {url: server.url, pushes, groups, close: server.close}
}

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** The samples of a Prometheus text exposition (comments skipped). Label values here never hold `"` or `,`. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line)
    if (!match) throw new Error(`not an exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of (match[2] ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
      const eq = pair.indexOf('=')
      labels[pair.slice(0, eq)] = pair.slice(eq + 2, -1)
    }
    samples.push({name: match[1] as string, labels, value: Number(match[3])})
  }
  return samples
}
