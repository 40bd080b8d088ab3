// Child-process entry of startS3EmulatorProcess(): starts the emulator, prints
// {"endpoint","bucket"} as one JSON line, and serves until killed.
import { startS3Emulator } from './s3-emulator.ts'

const emulator = await startS3Emulator()
process.stdout.write(`${JSON.stringify({ endpoint: emulator.endpoint, bucket: emulator.bucket })}\n`)
process.on('SIGTERM', () => {
  emulator.stop().then(() => process.exit(0))
})
