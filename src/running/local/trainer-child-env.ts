// The environment of a local trainer child: an explicit allow-list, never the server's whole
// environment (which holds the admin SKILLET_API_KEY, DATABASE_URL, SKILLET_HF_TOKEN / HF_TOKEN,
// webhook and metrics tokens). As the Kubernetes executor's per-job Secret does, the child gets
// the job (spec, token, callback URL), the blob store settings, the trainer's own settings and
// what a process needs to run and reach its GPU — and the AWS SDK's settings only when the blob
// store is S3, which the trainer then reads and writes itself.

/** Variables passed through by exact name: the basics of a process (paths, locale, temp dirs, display, Node). */
const PASS_NAMES = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'TMP', 'TEMP', 'LANG', 'TZ', 'LD_LIBRARY_PATH',
  'XDG_RUNTIME_DIR', 'XDG_CACHE_HOME', 'DISPLAY', 'WAYLAND_DISPLAY', 'NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS',
  'SystemRoot', 'ComSpec', 'PATHEXT', 'SKILLET_LOG_LEVEL',
])

/** Variables passed through by prefix: the trainer's settings, locale, and GPU stacks (Vulkan/Dawn, Mesa, CUDA, TensorFlow). */
const PASS_PREFIXES = ['SKILLET_TRAINER_', 'LC_', 'VK_', 'MESA_', 'DAWN_', 'CUDA_', 'NVIDIA_', 'TF_', 'NODE_LLAMA_CPP_']

/** With the S3 blob store: the AWS SDK's credential chain and region (AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE, …). */
const S3_PREFIXES = ['AWS_']

export function trainerChildEnv(
  inherited: Record<string, string | undefined>,
  opts: { blobStore: 'fs' | 's3'; set: Record<string, string> },
): Record<string, string> {
  const prefixes = opts.blobStore === 's3' ? [...PASS_PREFIXES, ...S3_PREFIXES] : PASS_PREFIXES
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(inherited)) {
    if (value === undefined) continue
    if (PASS_NAMES.has(name) || prefixes.some((p) => name.startsWith(p))) out[name] = value
  }
  return { ...out, ...opts.set }
}
