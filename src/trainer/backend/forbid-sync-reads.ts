// Makes synchronous tensor reads (dataSync, arraySync, bufferSync) an error.
//
// Why: in Node, tfjs-backend-webgpu's synchronous read goes through OffscreenCanvas, which does
// not exist there, so a `dataSync()` anywhere on the training path crashes a GPU job with
// "OffscreenCanvas is not defined" — but only on the GPU, never in CPU tests. The trainer reads
// with `await tensor.data()` only; turning sync reads into a clear error on every backend lets
// the CPU test suite prove that, and names the culprit when a GPU job hits one.
import * as tf from '@tensorflow/tfjs-core'

const SYNC_READS = ['dataSync', 'arraySync', 'bufferSync'] as const

type Proto = Record<(typeof SYNC_READS)[number], (...args: unknown[]) => unknown>

/** Installs the ban; returns a function that lifts it. Nested calls are fine. */
export function forbidSyncReads(): () => void {
  const proto = tf.Tensor.prototype as unknown as Proto
  const saved = SYNC_READS.map((name) => proto[name])
  for (const name of SYNC_READS) {
    proto[name] = function forbidden(this: tf.Tensor) {
      throw new Error(`${name}() on a ${this.shape.length}-D tensor: synchronous reads are forbidden in the trainer ` +
        '(they throw on the webgpu backend in Node); use `await tensor.data()`')
    }
  }
  return () => SYNC_READS.forEach((name, i) => { proto[name] = saved[i] })
}
