import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import type {AddressInfo} from 'node:net'
import type {Decision} from './controls.js'

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/**
 * Carries out the non-happy parts of a control decision: waits the configured latency, then
 * either hangs (never answers; the client must time out), resets the connection, or lets the
 * caller answer. Returns true when the caller should go on and answer the request itself.
 */
export async function applyTransportDecision(
  decision: Decision,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  if (decision.latencyMs > 0) await sleep(decision.latencyMs)
  if (decision.held) await decision.held
  if (decision.kind === 'fault' && decision.fault === 'hang') {
    // Hold the socket open without answering; it is destroyed when the server closes.
    return false
  }
  if (decision.kind === 'fault' && decision.fault === 'reset') {
    req.socket.resetAndDestroy()
    res.destroy()
    return false
  }
  return true
}

export interface RunningServer {
  server: Server
  port: number
  url: string
  close(): Promise<void>
}

/** A certificate and key (PEM) to serve https:// with instead of http://. */
export interface ServerTls {
  cert: string
  key: string
}

/**
 * Listens on 127.0.0.1 (port 0 = any free port) and tracks sockets so `close` never waits on hung requests;
 * https:// when given a certificate.
 */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  port = 0,
  tls?: ServerTls,
): Promise<RunningServer> {
  const server: Server = tls ? createHttpsServer(tls, handler) : createServer(handler)
  // Keep Node's default keep-alive timeout: at 1 s, Node 20 clients drop every pooled socket at once
  // (they subtract a 1 s safety buffer from the server's advertised timeout), so each request reconnected.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const actual = (server.address() as AddressInfo).port
  return {
    server,
    port: actual,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
