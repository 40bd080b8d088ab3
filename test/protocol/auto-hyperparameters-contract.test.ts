// The auto rule's contract: for any valid request and dataset, the result satisfies the resolved schema
// (what the spec carries to the trainer) and keeps every number the request gave.
import t from 'tap'
import { Value } from 'typebox/value'
import { DatasetSummarySchema, HyperparameterRequestSchema, ResolvedHyperparametersSchema, resolveHyperparameters, type HyperparameterRequest } from '../../src/protocol/auto-hyperparameters.ts'

t.test('every resolution satisfies the resolved schema and keeps given numbers', async (t) => {
  const requests: HyperparameterRequest[] = [
    { nEpochs: 'auto', batchSize: 'auto', learningRateMultiplier: 'auto' },
    { nEpochs: 2, batchSize: 'auto', learningRateMultiplier: 'auto' },
    { nEpochs: 'auto', batchSize: 16, learningRateMultiplier: 'auto' },
    { nEpochs: 'auto', batchSize: 'auto', learningRateMultiplier: 0.3 },
    { nEpochs: 1, batchSize: 1, learningRateMultiplier: 1 },
  ]
  let checked = 0
  for (const request of requests) {
    t.ok(Value.Check(HyperparameterRequestSchema, request))
    for (const examples of [0, 1, 10, 99, 1000, 123_456, 5_000_000]) {
      for (const meanTokens of [1, 500, 2000]) {
        const data = { examples, tokens: examples * meanTokens }
        t.ok(Value.Check(DatasetSummarySchema, data))
        const resolved = resolveHyperparameters(request, data)
        if (!Value.Check(ResolvedHyperparametersSchema, resolved)) t.fail(`${JSON.stringify(request)} on ${JSON.stringify(data)} → ${JSON.stringify(resolved)}`)
        for (const key of ['nEpochs', 'batchSize', 'learningRateMultiplier'] as const) {
          if (request[key] !== 'auto' && resolved[key] !== request[key]) t.fail(`${key} given as ${request[key]} became ${resolved[key]}`)
        }
        checked++
      }
    }
  }
  t.equal(checked, requests.length * 7 * 3)
})
