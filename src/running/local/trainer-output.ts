// What a failed trainer's output says, in one line: its own last meaningful line, not the noise
// GPU stacks print on the way (Dawn's and the Vulkan loader's warnings, Mesa's lavapipe notice),
// nor the frames of a stack trace.

const NOISE = [
  /^\s+at\s/, // stack frames
  /^\s*$/,
  /\b(vulkan|vk_[a-z_]+|dawn|lavapipe|llvmpipe|mesa|icd|swiftshader|wgpu)\b/i, // GPU stack chatter
  /^\s*(warning|info|debug)[:\s]/i,
]

/** The last line of `output` that is the trainer's own words ('' when there is none). */
export function lastMeaningfulLine(output: string): string {
  const meaningful = output.split(/\r?\n/).filter((l) => !NOISE.some((re) => re.test(l)))
  return (meaningful.at(-1) ?? '').trim().slice(0, 500)
}
