#!/usr/bin/env node
// The AWS SDK's warning about a Node.js version it will stop supporting is left on: users should see it.
const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
