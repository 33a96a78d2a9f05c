// Runs in a worker thread (see worker.kernel.test.ts): loads the addon in a second Node-API
// environment, uses the size cache the main thread filled, and exits with an FdWatcher still
// started and a mapping still mapped, which the environment's teardown must release.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const sys = process.env.EBPF_SYS_NATIVE
  ? require(process.env.EBPF_SYS_NATIVE)
  : require('node-gyp-build')(workerData.root);
const key = new Uint8Array(new ArrayBuffer(4));
const value = new Uint8Array(new ArrayBuffer(8));
const found = sys.mapLookup(workerData.mapFd, key, value, 0);
const watcher = new sys.FdWatcher(workerData.ringFd, () => {});
watcher.start();
if (workerData.unref) watcher.unref();
const mapping = sys.mmap(workerData.arrayFd, 4096, true);
new Uint8Array(mapping)[0] = 99;
parentPort.postMessage({ found, first: value[0] });
