// A realistic launch request for the launcher's tests.
import type { LaunchRequest } from '../../../src/running/executor/executor.ts'
import type { TrainerJobSpec } from '../../../src/protocol/trainer-job-spec.ts'

export function trainerSpec(overrides: Partial<TrainerJobSpec> = {}): TrainerJobSpec {
  return {
    jobId: 'ftjob-Ab3dE5gH7jK9mN1pQ3sT5vX7',
    projectId: 'proj_Zy8xW7vU6tS5rQ4pO3nM2lK1',
    model: { id: 'Qwen/Qwen2.5-0.5B-Instruct', source: { kind: 'blob', prefix: 'models/qwen2.5-0.5b-instruct/' } },
    trainingFile: { id: 'file-Tr41n1ngF1le000000000', blobKey: 'files/file-Tr41n1ngF1le000000000' },
    validationFile: null,
    method: { type: 'supervised', nEpochs: 3, batchSize: 8, learningRateMultiplier: 1 },
    seed: 42,
    outputPrefix: 'jobs/ftjob-Ab3dE5gH7jK9mN1pQ3sT5vX7/',
    callbackUrl: 'http://skillet-api.skillet.svc:8080/internal/v1',
    attempt: 1,
    ...overrides,
  }
}

export function launchRequest(overrides: Partial<TrainerJobSpec> = {}, token = 'sktrain_0123456789abcdef0123456789abcdef'): LaunchRequest {
  return { spec: trainerSpec(overrides), token }
}
