// Module hooks for the start-up test: prints every bare package a process imports, one per line on stderr.
export async function resolve(specifier, context, next) {
  if (!specifier.startsWith('.') && !specifier.startsWith('node:') && !specifier.startsWith('file:'))
    process.stderr.write(`import-trace: ${specifier}\n`)
  return next(specifier, context)
}
