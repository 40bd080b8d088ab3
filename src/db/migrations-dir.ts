// Where the SQL migrations are (migrations/ at the repository root), for both drivers.
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations')
