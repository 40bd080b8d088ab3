// Names of what a job produces, in OpenAI's forms:
//   fine-tuned model  ft:{base}:{project}:{suffix}:{8 base62}   (empty suffix segment without one)
//   checkpoint model  {fine-tuned model}:ckpt-step-{n}
import { randomBase62 } from '../lib/ids.ts'

/** A project name as it may appear inside a model id: no ':' (the separator), no spaces. */
function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'project'
}

export function fineTunedModelName(baseModel: string, projectName: string, suffix: string | null): string {
  return `ft:${baseModel}:${slug(projectName)}:${suffix ?? ''}:${randomBase62(8)}`
}

/**
 * The base model a model name was trained from: a fine-tuned or checkpoint model's name carries it
 * (a job continuing from `ft:…` is named after that model's base); a base model is its own.
 */
export function baseModelOfName(model: string): string {
  return model.startsWith('ft:') ? model.split(':')[1] : model
}

export function checkpointModelName(fineTunedModel: string, step: number): string {
  return `${fineTunedModel}:ckpt-step-${step}`
}

export const jobIds = {
  job: () => `ftjob-${randomBase62(24)}`,
  event: () => `ftevent-${randomBase62(24)}`,
  checkpoint: () => `ftckpt_${randomBase62(24)}`,
}
