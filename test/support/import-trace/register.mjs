// `node --import ./register.mjs …`: installs hooks.mjs beside it for the whole process.
import {register} from 'node:module'

register('./hooks.mjs', import.meta.url)
