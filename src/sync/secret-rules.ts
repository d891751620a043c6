/** AWS Secrets Manager limits (DESIGN.md §4 "Secret names and values"). */
export const MAX_NAME_LENGTH = 512
export const MAX_SECRET_BYTES = 65_536
const NAME_CHARS = /^[A-Za-z0-9/_+=.@-]+$/

/** Why `name` is not a valid Secrets Manager name, or undefined when it is. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the secret name is empty'
  if (name.length > MAX_NAME_LENGTH) return `the secret name is ${name.length} characters; AWS allows at most ${MAX_NAME_LENGTH}`
  if (!NAME_CHARS.test(name)) return 'the secret name may use only A-Z a-z 0-9 / _ + = . @ -'
  return undefined
}

/** Why the serialised value cannot be stored, or undefined when it fits. */
export function sizeProblem(serialised: string): string | undefined {
  const bytes = Buffer.byteLength(serialised, 'utf8')
  return bytes > MAX_SECRET_BYTES ? `the value is ${bytes} bytes; AWS allows at most ${MAX_SECRET_BYTES}` : undefined
}
