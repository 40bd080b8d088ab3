// What a server's environment may hold that no trainer may see (trainerChildEnv's allow-list keeps
// them out); AWS credentials pass only with the S3 blob store.
export const SERVER_SECRETS = {
  SKILLET_API_KEY: 'sk-adminadminadminadminadmin',
  DATABASE_URL: 'postgres://u:pw@db/skillet',
  SKILLET_HF_TOKEN: 'hf_secret',
  HF_TOKEN: 'hf_secret2',
  SKILLET_METRICS_TOKEN: 'metrics-token-0123456789',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  AWS_ACCESS_KEY_ID: 'AKIA',
}
