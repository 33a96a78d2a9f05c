export { collectGarbage, collectUntil, openFdCount, openFds, settleFds } from './fds.ts';
export { requireKernel, skipUnsupported } from './kernel.ts';
export { NetworkNamespace, VethNamespace, VethPair } from './netns.ts';
export { thrown } from './thrown.ts';
