import t from 'tap'
import { Signal } from '../../src/lib/signal.ts'

t.test('every subscriber hears each notify until it unsubscribes', async (t) => {
  const signal = new Signal()
  const heard: string[] = []
  const offA = signal.subscribe(() => heard.push('a'))
  signal.subscribe(() => heard.push('b'))
  signal.notify()
  offA()
  signal.notify()
  t.same(heard, ['a', 'b', 'b'])
})
