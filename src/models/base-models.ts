// The deployment's base models (SKILLET_BASE_MODELS) and where a trainer finds each one's files.
// Hub repos are copied into the blob store the first time a job needs them, and remembered.
import { eq } from 'drizzle-orm'
import type { BaseModelSource } from '../config/index.ts'
import type { Db } from '../db/database.ts'
import { hubModelCache } from '../db/schema/index.ts'
import type { TrainerJobSpec } from '../protocol/trainer-job-spec.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import { unixNow } from '../lib/ids.ts'
import { SharedTasks, type JoinOptions } from '../lib/shared-task.ts'
import { fetchHubModel, type HubFetchProgress } from './hub-fetch.ts'

export interface BaseModelDeps {
  db: Db
  blobs: BlobStore
  baseModels: Record<string, BaseModelSource>
  hubEndpoint: string
  hubToken?: string
}

/** What a caller waiting on a base model hears while its Hub repo is fetched. */
export type BaseModelProgress = HubFetchProgress & { repo: string }

/** Base models report this as their owner. */
export const BASE_MODEL_OWNER = 'skillet'

/** Hub fetches in flight in this process, one per repo@revision, shared by every job (and the inference path) waiting for it. */
const hubFetches = new SharedTasks<string, BaseModelProgress>()

export function isBaseModel(deps: Pick<BaseModelDeps, 'baseModels'>, id: string): boolean {
  return Object.hasOwn(deps.baseModels, id)
}

/**
 * Where the trainer loads `id` from; fetches a Hub repo into the blob store on first use. The fetch
 * stops when `signal` aborts and no other caller waits for the same repo.
 */
export async function resolveBaseModel(deps: BaseModelDeps, id: string, opts: JoinOptions<BaseModelProgress> = {}): Promise<TrainerJobSpec['model']> {
  const source = deps.baseModels[id]
  if (!source) throw new Error(`unknown base model ${id}`)
  if (source.kind === 'dir') return { id, source: { kind: 'dir', path: source.path } }
  if (source.kind === 'blob') return { id, source: { kind: 'blob', prefix: source.prefix } }
  const key = `${source.repo}@${source.revision}`
  const [cached] = await deps.db.select().from(hubModelCache).where(eq(hubModelCache.repo, key))
  if (cached) return { id, publicId: source.repo, source: { kind: 'blob', prefix: cached.blobPrefix } }
  const blobPrefix = await hubFetches.run(
    key,
    async (signal, progress) => {
      const fetched = await fetchHubModel({
        endpoint: deps.hubEndpoint,
        token: deps.hubToken,
        repo: source.repo,
        revision: source.revision,
        blobs: deps.blobs,
        prefix: `models/hub/${source.repo}/`,
        signal,
        onProgress: (p) => progress({ ...p, repo: source.repo }),
      })
      await deps.db.insert(hubModelCache).values({ repo: key, revision: fetched.sha, blobPrefix: fetched.blobPrefix, fetchedAt: unixNow() }).onConflictDoNothing()
      return fetched.blobPrefix
    },
    opts,
  )
  return { id, publicId: source.repo, source: { kind: 'blob', prefix: blobPrefix } }
}
