#!/usr/bin/env node
// The AWS SDK warns on every run under Node 20; the warning is noise for users of a CLI pinned to Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
