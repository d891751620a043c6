import {PassThrough} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {createLogger, type LogFormat} from '../../src/observability/logger.js'
import {Redactor} from '../../src/observability/redact.js'

/** A logger writing to memory; the lines it wrote, once winston has flushed them. */
async function logged(format: LogFormat, write: (logger: ReturnType<typeof createLogger>) => void): Promise<string[]> {
  const stream = new PassThrough()
  const chunks: string[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')))
  write(createLogger({level: 'debug', format, redactor: new Redactor(), runId: 'r1', stream}))
  await new Promise((resolve) => setImmediate(resolve))
  return chunks.join('').replace(/\n$/, '').split('\n')
}

const KEY = 'db\u001b]0;pwn\u0007\r\n::error::forged##[add-mask]x\u202e'

describe('createLogger: untrusted text in log lines', () => {
  it('text format: message and fields are escaped, and the line is one line with no command in it', async () => {
    // Given a warning naming a hostile Vault key, in the message and in a field
    const lines = await logged('text', (logger) =>
      logger.warn(`permission denied reading ${KEY}`, {path: KEY, count: 2}),
    )

    // Then it is one line, with every control character shown as an escape and the commands neutralised
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /^\S+ warn {2}permission denied reading db\\u001b\]0;pwn\\u0007\\r\\n::error::forged\\u0023#\[add-mask\]x\\u202e path=db\\u001b.*\\u202e count=2$/,
    )
  })

  it('json format: exact data, with C1, bidi and ##[ as JSON escapes', async () => {
    // Given the same warning with a C1 character
    const lines = await logged('json', (logger) => logger.warn(`denied ${KEY}\u009b`, {path: KEY}))

    // Then the line parses back to the exact strings, and holds none of those characters raw
    const entry = JSON.parse(lines[0] ?? '') as {message: string; path: string; run_id: string}
    expect(entry).toMatchObject({message: `denied ${KEY}\u009b`, path: KEY, run_id: 'r1'})
    expect(lines[0]).not.toMatch(/[\u009b\u202e]|##\[/u)
  })

  it('keeps the fields of a message that looks like a format string (%s, %d, %%)', async () => {
    // Given a Vault key whose name holds printf tokens: winston alone would read it as a format string and drop the fields
    const text = await logged('text', (logger) => logger.warn('folder a%sb%%c skipped', {mount: 'secret/'}))
    const json = await logged('json', (logger) => logger.warn('folder a%sb%%c skipped', {mount: 'secret/'}))

    // Then the message is kept as it is and the field is still there
    expect(text[0]).toMatch(/ warn {2}folder a%sb%%c skipped mount=secret\/$/)
    expect(JSON.parse(json[0] ?? '')).toMatchObject({message: 'folder a%sb%%c skipped', mount: 'secret/', run_id: 'r1'})
  })
})
