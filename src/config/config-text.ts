import {ConfigError} from '../errors.js'

/** The file's text; bytes that are not UTF-8 are an error naming their line, never U+FFFD in a value. */
export function decodeConfigText(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    // A line feed byte never occurs inside a multi-byte sequence, so decoding line by line finds the bad line.
    let line = 1
    let start = 0
    for (let index = 0; index <= bytes.length; index++) {
      if (index < bytes.length && bytes[index] !== 0x0a) continue
      try {
        new TextDecoder('utf-8', {fatal: true}).decode(bytes.subarray(start, index))
      } catch {
        break
      }
      line++
      start = index + 1
    }
    throw new ConfigError([{file, line, path: '', message: 'is not UTF-8 text (save the file as UTF-8)'}])
  }
}

// YAML 1.2 allows only printable characters (c-printable) in a stream; the others are refused with their place.
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u0084\u0086-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** The first character YAML does not allow in a file, with its place and a message naming its code point. */
export function findForbiddenCharacter(text: string): {line: number; column: number; message: string} | undefined {
  const match = FORBIDDEN.exec(text)
  if (!match) return undefined
  const before = text.slice(0, match.index)
  const line = before.split('\n').length
  const code = (match[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')
  return {
    line,
    column: match.index - before.lastIndexOf('\n'),
    message: `control character U+${code} is not allowed in a YAML file (write it as an escape in a double-quoted string)`,
  }
}
