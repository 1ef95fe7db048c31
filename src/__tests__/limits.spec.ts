import { IEnvironment, workerLimit } from '../tokens';

const limits = (max_gpu_workers: number | null): IEnvironment['limits'] => ({
  max_workers: 16,
  max_gpu_workers,
  max_gpus_per_worker: 1,
  max_clusters: 5,
  max_idle_timeout: 0
});

describe('workerLimit', () => {
  it('bounds GPU clusters by the GPUs of this machine', () => {
    expect(workerLimit(limits(2), 1)).toBe(2);
  });

  it('bounds CPU clusters on a GPU machine by the admin limit only', () => {
    expect(workerLimit(limits(2), 0)).toBe(16);
  });

  it('uses the admin limit where the hardware sets none (Kubernetes)', () => {
    expect(workerLimit(limits(null), 1)).toBe(16);
  });
});
