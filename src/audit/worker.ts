/** Worker thread entry: builds the job runner from the spec it is started with, then runs jobs. */
import { parentPort, workerData } from 'node:worker_threads';
import { jobRunner, type JobSpec, type Job } from './job.js';

const { spec, keepObjects } = workerData as { spec: JobSpec; keepObjects: boolean };
const port = parentPort!;
try {
  const run = await jobRunner(spec, { keepObjects });
  port.on('message', (job: Job) => {
    try {
      port.postMessage({ ok: run(job) });
    } catch (err) {
      port.postMessage({ failed: err instanceof Error ? (err.stack ?? err.message) : String(err), seq: job.seq });
    }
  });
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ failed: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}
