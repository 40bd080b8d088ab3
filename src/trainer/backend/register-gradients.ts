// Registers tfjs's gradient functions for the kernels the trainer differentiates through.
//
// Why this is needed: the CommonJS bundle that Node loads for @tensorflow/tfjs-core has the
// ops but not the gradient registrations (the @tensorflow/tfjs umbrella package normally adds
// them, and it is not a dependency here). The gradients ship as ES module files in
// tfjs-core/dist/gradients/, written with extensionless relative imports that Node's ESM
// resolver refuses; a resolve hook scoped to that folder adds the ".js". tfjs keeps its engine
// and registries on globalThis, so the ES module copy of the ops these files use drives the
// same engine as the CommonJS bundle. Loading only these ~45 files (not all ~100) keeps
// start-up well under a second.
import * as tf from '@tensorflow/tfjs-core'
import { registerHooks } from 'node:module'

/** The kernels whose gradients are registered (a bundler imports their files statically: test/bench/gpu/make-bundle.ts). */
export const GRADIENT_KERNELS = [
  'Abs', 'Add', 'AddN', 'BatchMatMul', 'BroadcastTo', 'Cast', 'ClipByValue', 'Concat', 'Cumsum', 'Erf', 'Exp',
  'ExpandDims', 'Floor', 'GatherV2', 'Identity', 'Log', 'LogSoftmax', 'Max', 'Maximum', 'Mean', 'Min', 'Minimum',
  'Multiply', 'Neg', 'OneHot', 'OnesLike', 'Pack', 'PadV2', 'Pow', 'Prod', 'RealDiv', 'Reciprocal', 'Relu',
  'Reshape', 'Rsqrt', 'Select', 'Sigmoid', 'Sign', 'Slice', 'Softmax', 'Softplus', 'SplitV', 'Sqrt', 'Square',
  'SquaredDifference', 'Step', 'Sub', 'Sum', 'Tanh', 'Tile', 'Transpose', 'Unpack', 'UnsortedSegmentSum', 'ZerosLike',
]

let registered: Promise<void> | null = null

function addJsExtensionInsideTfjsCore(): void {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const fromTfjsCore = context.parentURL?.includes('/@tensorflow/tfjs-core/dist/') ?? false
      if (fromTfjsCore && specifier.startsWith('.') && !specifier.endsWith('.js')) return nextResolve(`${specifier}.js`, context)
      return nextResolve(specifier, context)
    },
  })
}

/** Idempotent; safe to call from every entry point. */
export function registerGradients(): Promise<void> {
  registered ??= (async () => {
    addJsExtensionInsideTfjsCore()
    for (const kernel of GRADIENT_KERNELS) {
      if (tf.getGradient(kernel)) continue
      const module = (await import(`@tensorflow/tfjs-core/dist/gradients/${kernel}_grad.js`)) as Record<string, unknown>
      for (const value of Object.values(module)) {
        const config = value as tf.GradConfig
        if (config && typeof config.gradFunc === 'function' && config.kernelName === kernel) tf.registerGradient(config)
      }
    }
  })()
  return registered
}
