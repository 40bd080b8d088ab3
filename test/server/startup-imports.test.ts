// Start-up loads only the chosen back ends: on embedded defaults (local files, local executor) the
// server never loads the AWS SDK nor the Kubernetes client, which together take about 0.9 s of CPU
// to import (measured with bench:demo's start-up profile).
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startServerProcess } from '../helpers/server-process.ts'
import { tmpDir } from '../helpers/test-app.ts'

const RECORDER = fileURLToPath(new URL('../helpers/record-imports.ts', import.meta.url))

t.test('a server on embedded defaults loads neither @aws-sdk nor @kubernetes/client-node', async (t) => {
  const dir = await tmpDir(t)
  const importsFile = path.join(dir, 'imports.txt')
  const server = await startServerProcess({
    SKILLET_DATA_DIR: path.join(dir, 'data'),
    SKILLET_API_KEY: 'sk-test-startup-imports-0123456789',
    SKILLET_METRICS_PORT: '0',
    NODE_OPTIONS: `--import=${RECORDER}`,
    SKILLET_TEST_IMPORTS_FILE: importsFile,
  })
  t.equal((await fetch(`${server.baseURL}/readyz`)).status, 200, 'ready: the database and blob store answer')
  await server.stop()
  const urls = fs.readFileSync(importsFile, 'utf8').trim().split('\n')
  t.ok(urls.some((u) => u.includes('/@electric-sql/pglite/')), `the recorder sees the process's imports (${urls.length} modules)`)
  t.same(urls.filter((u) => u.includes('/@aws-sdk/')), [], 'no AWS SDK module')
  t.same(urls.filter((u) => u.includes('/@kubernetes/client-node/')), [], 'no Kubernetes client module')
})
