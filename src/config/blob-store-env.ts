import type { Config } from './index.ts'

/**
 * The blob store the server uses, as the environment variables readBlobStoreSettings (./index.ts)
 * reads, for the API and its trainers alike, so a trainer opens the
 * same store even when the server was configured in code rather than from its environment.
 * Credentials are not here: they stay in the environment the trainer inherits (or its Secret).
 */
export function blobStoreEnv(config: Pick<Config, 'dataDir' | 's3'>): Record<string, string> {
  if (!config.s3) return { SKILLET_DATA_DIR: config.dataDir }
  return {
    SKILLET_S3_BUCKET: config.s3.bucket,
    ...(config.s3.endpoint ? { SKILLET_S3_ENDPOINT: config.s3.endpoint } : {}),
    SKILLET_S3_REGION: config.s3.region,
    SKILLET_S3_FORCE_PATH_STYLE: String(config.s3.forcePathStyle),
    SKILLET_S3_PREFIX: config.s3.prefix,
  }
}
