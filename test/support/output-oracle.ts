/**
 * The oracle for untrusted text in output (issue 17 item 8): what a line may hold, what the `-o github` log may
 * hold, and where values may appear. Each check returns problems (empty when the text is safe), so a seeded test
 * can report every problem with its seed.
 */

// What no line may hold raw: C0, DEL, C1, format controls, separators, lone surrogates (lines are split on \n).
const RAW_UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u
// The colours sync-text paints with on a terminal: ours, so the oracle strips them before looking.
const OUR_COLOURS = new RegExp(String.raw`\u001b\[(?:0|1|31|32|33|35|36)m`, 'g')
// The runner trims leading white space (.NET's idea of it, which includes NEL) before looking for `::`.
const startsCommand = (line: string): boolean => /^[\s\u0085]*::/u.test(line)
const codePoint = (c: string): string => `U+${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`

export type Problems = string[]

/** A human-facing (or JSON) text: every line free of raw unsafe characters and of workflow commands. */
export function lineProblems(where: string, text: string, options: {colours?: boolean} = {}): Problems {
  const problems: Problems = []
  text.split('\n').forEach((line, index) => {
    const visible = options.colours ? line.replace(OUR_COLOURS, '') : line
    const raw = RAW_UNSAFE.exec(visible)
    if (raw)
      problems.push(`${where} line ${index + 1}: raw ${codePoint(raw[0])}: ${JSON.stringify(line.slice(0, 120))}`)
    if (startsCommand(line))
      problems.push(`${where} line ${index + 1}: starts a workflow command: ${JSON.stringify(line.slice(0, 120))}`)
    if (line.includes('##['))
      problems.push(`${where} line ${index + 1}: holds ##[: ${JSON.stringify(line.slice(0, 120))}`)
  })
  return problems
}

const ANNOTATION = /^::(error|warning|notice) title=secretsync(?: conflict| drift| mode| failed \(exit \d+\))?::(.*)$/
const MASK = /^::add-mask::(.*)$/
const decodeCommandData = (text: string): string =>
  text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')

/**
 * The `-o github` log: every line is one of our commands or sits inside a stop-commands fence; a fence's token is
 * 64 random hex digits and only its own resume line ends it; annotation messages decode to text with no raw control
 * character; values appear only inside a fence, and each one shown there was first registered by an `::add-mask::`
 * line, which come before everything else (outside any fence, where the runner would ignore them).
 */
export function githubProblems(where: string, stdout: string, markers: readonly string[]): Problems {
  const problems: Problems = []
  let token: string | null = null
  let masksDone = false
  const masks: string[] = []
  const lines = stdout.replace(/\n$/, '').split('\n')
  lines.forEach((line, index) => {
    const at = `${where} line ${index + 1}`
    const raw = RAW_UNSAFE.exec(line)
    if (raw) problems.push(`${at}: raw ${codePoint(raw[0])}`)
    if (line.includes('##[')) problems.push(`${at}: holds ##[`)
    const mask = MASK.exec(line)
    if (mask && token === null) {
      if (masksDone) problems.push(`${at}: an add-mask after other lines`)
      masks.push(decodeCommandData(mask[1] ?? ''))
      return
    }
    masksDone = true
    if (token !== null) {
      if (line === `::${token}::`) token = null
      else if (startsCommand(line))
        problems.push(`${at}: a command inside the fence: ${JSON.stringify(line.slice(0, 120))}`)
      for (const marker of markers) {
        if (line.includes(marker) && !masks.some((registered) => registered.includes(marker)))
          problems.push(`${at}: value ${marker} shown without an add-mask before it`)
      }
      return
    }
    for (const marker of markers) if (line.includes(marker)) problems.push(`${at}: value ${marker} outside the fence`)
    const fence = /^::stop-commands::(.*)$/.exec(line)
    const annotation = ANNOTATION.exec(line)
    if (fence) {
      if (!/^[0-9a-f]{64}$/.test(fence[1] ?? '')) problems.push(`${at}: guessable fence token ${fence[1]}`)
      token = fence[1] ?? ''
    } else if (annotation) {
      const decoded = decodeCommandData(annotation[2] ?? '')
      const rawInMessage = RAW_UNSAFE.exec(decoded)
      if (rawInMessage) problems.push(`${at}: annotation decodes to raw ${codePoint(rawInMessage[0])}`)
    } else if (!/^::group::/.test(line) && line !== '::endgroup::') {
      problems.push(`${at}: not one of our commands: ${JSON.stringify(line.slice(0, 120))}`)
    }
  })
  if (token !== null) problems.push(`${where}: fence never closed`)
  return problems
}

export const leaks = (where: string, text: string, markers: readonly string[]): Problems =>
  markers
    .filter((marker) => text.includes(marker))
    .map((marker) => `${where}: shows value ${marker} without --show-values`)
