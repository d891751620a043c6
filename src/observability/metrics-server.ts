import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {Pushgateway, type Registry} from 'prom-client'
import {ExitCode, SecretSyncError} from '../errors.js'

export interface ServeMetricsOptions {
  /** 0 picks a free port (tests). */
  port: number
  path: string
  /** Default: every interface, so Prometheus can scrape the pod. */
  host?: string
}

export interface MetricsServer {
  port: number
  url: string
  close(): Promise<void>
}

/** Serves the registry's text exposition format at `path` during a run (`--metrics-port`); 404 elsewhere. */
export async function serveMetrics(registry: Registry, options: ServeMetricsOptions): Promise<MetricsServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path !== options.path) {
      res.writeHead(404, {'content-type': 'text/plain'}).end('not found\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, {allow: 'GET, HEAD', 'content-type': 'text/plain'}).end('method not allowed\n')
      return
    }
    try {
      const body = await registry.metrics()
      res.writeHead(200, {'content-type': registry.contentType})
      res.end(req.method === 'HEAD' ? undefined : body)
    } catch {
      res.writeHead(500, {'content-type': 'text/plain'}).end('metrics unavailable\n')
    }
  }
  const server = createServer((req, res) => void handle(req, res))
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new SecretSyncError(
          'METRICS_SERVER_FAILED',
          `cannot serve metrics on port ${options.port}: ${error.code ?? error.message}`,
          ExitCode.failure,
          {
            hint: 'Choose a free port with --metrics-port (or metrics.port), or leave metrics off.',
            cause: error,
          },
        ),
      ),
    )
    // Without a host Node listens on every interface (IPv6 when available, else IPv4).
    if (options.host) server.listen(options.port, options.host, () => resolve())
    else server.listen(options.port, () => resolve())
  })
  // The listening socket alone must not keep the process alive after the run; close() ends connections.
  server.unref()
  const port = (server.address() as AddressInfo).port
  const host = options.host ?? 'localhost'
  const shownHost = host.includes(':') ? `[${host}]` : host
  return {
    port,
    url: `http://${shownHost}:${port}${options.path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface PushMetricsOptions {
  /** Pushgateway base URL (`--pushgateway`, `metrics.pushgateway`). */
  url: string
  job: string
  /** Grouping labels after the job (`/phase/sync/shard/1`), in this order: each run kind and shard owns its group. */
  groupings?: Readonly<Record<string, string>>
  timeoutMs?: number
}

/** Where a push lands below `<url>/metrics`: `/job/<job>` then each grouping label, as the Pushgateway API reads it. */
export const pushGroupPath = (options: Pick<PushMetricsOptions, 'job' | 'groupings'>): string =>
  [['job', options.job] as const, ...Object.entries(options.groupings ?? {})]
    .map(([label, value]) => `/${encodeURIComponent(label)}/${encodeURIComponent(value)}`)
    .join('')

// A Pushgateway URL may carry basic-auth credentials; they never go into a message.
const withoutCredentials = (url: string): string => {
  try {
    const parsed = new URL(url)
    parsed.username = ''
    parsed.password = ''
    return parsed.toString().replace(/\/$/, '')
  } catch {
    return '<invalid URL>'
  }
}

/**
 * Replaces the metrics of one group on a Pushgateway (PUT `<url>/metrics/job/<job>/<label>/<value>…`) at the end
 * of a batch run. A PUT replaces only the group with exactly that grouping key, so runs pushing different keys
 * (shards, merge-only and sync-only runs) never replace each other's metrics.
 * A failed push must not fail the run: the error is returned for the caller to log, never thrown.
 */
export async function pushMetrics(
  registry: Registry,
  options: PushMetricsOptions,
): Promise<SecretSyncError | undefined> {
  try {
    // prom-client's Pushgateway takes the registry to push, so the run's own registry goes, not the global one.
    const gateway = new Pushgateway(options.url, {timeout: options.timeoutMs ?? 10_000}, registry)
    await gateway.push({jobName: options.job, groupings: {...options.groupings}})
    return undefined
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error)
    return new SecretSyncError(
      'METRICS_PUSH_FAILED',
      `pushing metrics to ${withoutCredentials(options.url)} (${pushGroupPath(options).slice(1)}) failed: ${cause}`,
      ExitCode.failure,
      {hint: 'Check the Pushgateway URL and that it is reachable; the run itself is not affected.', cause: error},
    )
  }
}
