// Hot queries are built once per database handle and then run as named prepared statements.
// Building a query with drizzle (walking a thirty-column table's selection, rendering SQL) costs
// more CPU than Postgres spends answering a primary-key lookup, and a named statement also spares
// Postgres the parse and plan on every call after a connection's first.
import type { Db } from './database.ts'

/** `build(db)` runs once per Db (or transaction) handle; later calls reuse its result. */
export function preparedPerDb<Prepared>(build: (db: Db) => Prepared): (db: Db) => Prepared {
  const cache = new WeakMap<Db, Prepared>()
  return (db) => {
    let prepared = cache.get(db)
    if (prepared === undefined) {
      prepared = build(db)
      cache.set(db, prepared)
    }
    return prepared
  }
}
