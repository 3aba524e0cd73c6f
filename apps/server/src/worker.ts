import { errorMessage } from '@medad/core';
import { createLogger } from './logger.js';
import { maskRedisUrl, startWorker, type RunWorker, type WorkerOptions } from './execution/redis.js';

/** `medad worker`: starts a queue worker and keeps it running until SIGINT/SIGTERM (then drains and exits). */
export async function runWorker(o: WorkerOptions = {}): Promise<RunWorker> {
  const logger = o.logger ?? createLogger((process.env.MEDAD_LOG_LEVEL as 'info' | undefined) ?? 'info');
  const worker = await startWorker({ ...o, logger });
  process.stdout.write(`medad worker ${worker.name}: waiting for runs on ${maskRedisUrl((o.redisUrl ?? process.env.REDIS_URL)!)}\n`);
  const stop = (): void => {
    worker.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`medad worker: shutdown failed: ${errorMessage(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return worker;
}
