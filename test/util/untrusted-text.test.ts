import {describe, expect, it} from 'vitest'
import {HostileText} from '../support/hostile-text.js'
import {
  escapeCommandData,
  escapeCommandProperty,
  escapeJsonText,
  escapeUntrusted,
  guardLine,
  stringifyJsonSafely,
  untrusted,
  verbatim,
} from '../../src/util/untrusted-text.js'

describe('escapeUntrusted', () => {
  it('shows C0, DEL and C1 controls as escapes, with short forms for tab, newline and carriage return', () => {
    // Given a terminal title sequence, a clear screen, a bell, a C1 CSI, DEL, NUL and line breaks
    const text = 'a\u001b]0;pwn\u0007b\u001b[2J\u009b31m\u007f\u0000\t\r\n'

    // When it is escaped
    // Then every control character is visible and the text is ASCII
    expect(escapeUntrusted(text)).toBe('a\\u001b]0;pwn\\u0007b\\u001b[2J\\u009b31m\\u007f\\u0000\\t\\r\\n')
  })

  it('shows bidi overrides, zero-width and other format characters, separators and lone surrogates', () => {
    // Given characters that reorder, hide or split text, and one beyond the BMP (a tag character)
    const text = 'x\u202e\u2066\u2069\u200b\u200d\ufeff\u2028\u2029\ud800\u{e0041}y'

    // When it is escaped
    // Then each is an escape; the astral one keeps its code point in braces
    expect(escapeUntrusted(text)).toBe('x\\u202e\\u2066\\u2069\\u200b\\u200d\\ufeff\\u2028\\u2029\\ud800\\u{e0041}y')
  })

  it('keeps ordinary text, including non-ASCII letters and emoji, as it is', () => {
    expect(escapeUntrusted('prod/db — ünïcødé 日本語 😀 a:b,c %0A')).toBe('prod/db — ünïcødé 日本語 😀 a:b,c %0A')
  })

  it('neutralises workflow commands visibly: a leading :: (after blanks) and every ##[', () => {
    expect(escapeUntrusted('::error::forged')).toBe('\\u003a:error::forged')
    expect(escapeUntrusted('  \u00a0::add-mask::x')).toBe('  \u00a0\\u003a:add-mask::x')
    expect(escapeUntrusted('k##[set-output name=x;]y')).toBe('k\\u0023#[set-output name=x;]y')
    expect(escapeUntrusted('###[a]##[b]')).toBe('#\\u0023#[a]\\u0023#[b]')
    // A newline cannot smuggle a command to the start of a line: it is escaped first
    expect(escapeUntrusted('x\n::error::y')).toBe('x\\n::error::y')
    expect(escapeUntrusted('a :: b')).toBe('a :: b')
  })
})

describe('escapeUntrusted on generated hostile text', () => {
  it('leaves nothing raw, and escaping twice changes nothing (an already escaped message may be escaped again)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const text = new HostileText(seed).string()
      const once = escapeUntrusted(text)
      expect(once, `seed ${seed}`).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]|##\[|^\s*::/u)
      expect(escapeUntrusted(once), `seed ${seed}`).toBe(once)
    }
  })
})

describe('guardLine', () => {
  it('guards a line assembled from fields without touching its colours', () => {
    // Given a line whose ## and [ come from two fields, and one of ours with ANSI colour
    expect(guardLine('  ~ key## [x]')).toBe('  ~ key## [x]')
    expect(guardLine('a##' + '[b')).toBe('a\\u0023#[b')
    expect(guardLine('\u001b[32m+ k\u001b[0m')).toBe('\u001b[32m+ k\u001b[0m')
    expect(guardLine(' ::x')).toBe(' \\u003a:x')
  })
})

describe('untrusted template', () => {
  it('escapes every interpolated value, keeps verbatim parts and guards each line', () => {
    // Given hostile values, a number and a painted part of ours
    const name = 'a\u001b[2Jb'
    const painted = '\u001b[1mbold\u001b[0m'

    // When a line is built with the template
    const line = untrusted`target ${name} v${3}: ${verbatim(painted)} ${'::x'}`

    // Then data is escaped, ours is not
    expect(line).toBe('target a\\u001b[2Jb v3: \u001b[1mbold\u001b[0m \\u003a:x')
    expect(untrusted`${'##'}[`).toBe('\\u0023#[')
  })
})

describe('escapeCommandData / escapeCommandProperty', () => {
  it('escape as GitHub documents: % first, then CR and LF; properties also : and ,', () => {
    expect(escapeCommandData('a%b\rc\nd:e,f %0A')).toBe('a%25b%0Dc%0Ad:e,f %250A')
    expect(escapeCommandProperty('a%b\rc\nd:e,f')).toBe('a%25b%0Dc%0Ad%3Ae%2Cf')
  })
})

describe('stringifyJsonSafely', () => {
  it('escapes what JSON.stringify leaves raw, and JSON.parse gives back the exact strings', () => {
    // Given strings holding C1, DEL, bidi, zero-width, separators, a tag character and a legacy command
    const data = {
      'k\u009b\u202e': ['v\u007f\u0085\u200b\u2028\u{e0041}', '##[set-output name=x;]y', '\u001b]0;t\u0007', 'ünï 😀'],
    }

    // When it is stringified
    const text = stringifyJsonSafely(data)

    // Then the text is ASCII apart from the ordinary letters and emoji, holds no ##[, and parses back exactly
    expect(text).not.toMatch(/[\u007f-\u009f\u200b\u202e\u2028]/u)
    expect(text).not.toContain('##[')
    expect(text).toContain('\\udb40\\udc41')
    expect(text).toContain('ünï 😀')
    expect(JSON.parse(text)).toEqual(data)
    expect(text).toBe(escapeJsonText(JSON.stringify(data, null, 2)))
  })
})
