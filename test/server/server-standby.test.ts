// The server on embedded defaults keeps a standby trainer (SKILLET_WARM_TRAINERS=1): a child
// process waiting for its job. It must not outlive the server, whether the server stops on SIGTERM
// (the executor closes it) or is killed (the standby sees its parent and IPC channel gone).
import t from 'tap'
import { startServerProcess } from '../helpers/server-process.ts'
import { alive, childrenOf, environOf } from '../helpers/processes.ts'
import { tmpDir } from '../helpers/test-app.ts'
import { until } from '../helpers/until.ts'

/** Pids of `parent`'s children that are standby trainers (SKILLET_JOB_VIA_IPC=1 in their environment). */
const standbysOf = (parent: number) => childrenOf(parent).filter((pid) => {
  try {
    return environOf(pid).SKILLET_JOB_VIA_IPC === '1'
  } catch {
    return false // gone meanwhile
  }
})

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  t.test(`a server stopped by ${signal} leaves no standby trainer behind`, async (t) => {
    const server = await startServerProcess({ SKILLET_DATA_DIR: await tmpDir(t), SKILLET_UI: 'false', SKILLET_METRICS_PORT: '0' })
    t.teardown(() => server.stop())
    const [standby] = await until('the standby trainer', () => {
      const pids = standbysOf(server.child.pid!)
      return pids.length > 0 && pids
    }, 60_000)
    t.ok(standby, `standby trainer ${standby} runs beside server ${server.child.pid}`)
    server.child.kill(signal)
    const code = await server.exited
    if (signal === 'SIGTERM') t.equal(code, 0, 'the server exits cleanly')
    await until(`standby ${standby} to exit`, () => !alive(standby), 30_000)
    t.notOk(alive(standby), 'the standby is gone')
  })
}
